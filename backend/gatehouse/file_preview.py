"""The preview of a `create_file` call for its approval card, computed without writing.

It applies the checks the tool itself makes first (a path inside the workspace, the size
limit), so the person sees an invalid path or an oversized file before approving.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from gatehouse.protocol import FilePreview
from gatehouse.safe_paths import InvalidPath, locate_in_workspace, normalise_relative


def preview_create_file(
    workspace_dir: Path, max_file_bytes: int, tool_input: Mapping[str, object]
) -> FilePreview:
    path, content = tool_input.get("path"), tool_input.get("content")
    size = len(content.encode("utf-8", "surrogatepass")) if isinstance(content, str) else 0
    shown = path if isinstance(path, str) else ""
    try:
        shown = normalise_relative(cast(str, path))  # refuses a path that is not a string
        location = locate_in_workspace(workspace_dir, shown)
    except InvalidPath as exc:
        return FilePreview(
            path=shown, bytes=size, overwrite=False, valid_path=False, problem=exc.reason
        )
    problem = None
    if size > max_file_bytes:
        problem = f"content is {size} bytes; the limit is {max_file_bytes} bytes"
    # locate_in_workspace lets through only a regular file or nothing at the target.
    overwrite = not location.missing and os.path.lexists(location.path)
    return FilePreview(
        path=shown, bytes=size, overwrite=overwrite, valid_path=True, problem=problem
    )
