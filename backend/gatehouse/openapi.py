"""The HTTP API's OpenAPI document, from which the frontend's types are generated
(`make protocol` writes frontend/lib/api_types.ts; `make protocol-check` holds them equal).

`python -m gatehouse.openapi` prints it. Only the routes matter here, so the app is built with
the settings' defaults and never started.
"""

from __future__ import annotations

import json
from typing import Any

from gatehouse.app import create_app
from gatehouse.settings import Settings


def openapi_document() -> dict[str, Any]:
    return create_app(Settings()).openapi()


if __name__ == "__main__":
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))  # noqa: T201
