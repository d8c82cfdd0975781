"""`tests.model_server` in a process of its own, on uvloop when installed (a cheaper loop).

python -m bench.model_proc --port 0   (prints "ready <port>")
"""

from __future__ import annotations

import asyncio

from tests import model_server


def main() -> None:
    try:
        import uvloop
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # pyright: ignore[reportDeprecated]
    model_server.main()


if __name__ == "__main__":
    main()
