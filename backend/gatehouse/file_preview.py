"""The preview of a `create_file` or `edit_file` call for its approval card, computed without
writing: the path, the size, whether it overwrites, and the diff against the file on disk.

It applies the checks the tool itself makes first (a path inside the workspace, the size
limit, edits that match once), so the person sees what is wrong before approving.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from gatehouse.file_diff import MAX_DIFF_BYTES, diff_texts
from gatehouse.file_edits import apply_edits
from gatehouse.protocol import FileDiff, FilePreview
from gatehouse.safe_paths import (
    InvalidPath,
    WorkspaceLocation,
    locate_in_workspace,
    normalise_relative,
)
from gatehouse.workspace_files import FileProblem, read_file_bytes


def preview_create_file(
    workspace_dir: Path, max_file_bytes: int, tool_input: Mapping[str, object]
) -> FilePreview:
    path, content = tool_input.get("path"), tool_input.get("content")
    text = content if isinstance(content, str) else ""
    size = len(text.encode("utf-8", "surrogatepass"))
    located = _locate(workspace_dir, path, size)
    if isinstance(located, FilePreview):
        return located
    shown, location = located
    problem = None
    if size > max_file_bytes:
        problem = f"content is {size} bytes; the limit is {max_file_bytes} bytes"
    # locate_in_workspace lets through only a regular file or nothing at the target.
    overwrite = not location.missing and os.path.lexists(location.path)
    old = (_current_text(location) if overwrite else None) or ""  # gone meanwhile: a new file
    diff = old if isinstance(old, FileDiff) else diff_texts(old, text)
    return FilePreview(
        path=shown, bytes=size, overwrite=overwrite, valid_path=True, problem=problem, diff=diff
    )


def preview_edit_file(
    workspace_dir: Path, max_file_bytes: int, tool_input: Mapping[str, object]
) -> FilePreview:
    located = _locate(workspace_dir, tool_input.get("path"), 0)
    if isinstance(located, FilePreview):
        return located
    shown, location = located
    old = _current_text(location, max_file_bytes)
    if old is None:
        return _refused(shown, 0, f"'{shown}' does not exist", overwrite=False)
    if isinstance(old, FileDiff):
        return _refused(shown, 0, f"'{shown}' cannot be edited ({old.skipped})", diff=old)
    try:
        new = apply_edits(old, cast(Sequence[Mapping[str, str]], _edits(tool_input)))
    except FileProblem as exc:
        return _refused(shown, len(old.encode()), exc.reason)
    size = len(new.encode("utf-8", "surrogatepass"))
    problem = f"the result is {size} bytes; the limit is {max_file_bytes} bytes"
    return FilePreview(
        path=shown,
        bytes=size,
        overwrite=True,
        valid_path=True,
        problem=problem if size > max_file_bytes else None,
        diff=diff_texts(old, new),
    )


def _locate(
    workspace_dir: Path, path: object, size: int
) -> tuple[str, WorkspaceLocation] | FilePreview:
    shown = path if isinstance(path, str) else ""
    try:
        shown = normalise_relative(cast(str, path))  # refuses a path that is not a string
        return shown, locate_in_workspace(workspace_dir, shown)
    except InvalidPath as exc:
        return FilePreview(
            path=shown, bytes=size, overwrite=False, valid_path=False, problem=exc.reason
        )


def _current_text(
    location: WorkspaceLocation, limit: int = MAX_DIFF_BYTES
) -> str | FileDiff | None:
    """The file's text now; None when missing; a skipped diff when too large or not text."""
    try:
        data = read_file_bytes(location, limit)
    except (InvalidPath, OSError):
        return None
    if data is None:
        return None
    if len(data) > limit:
        return FileDiff(added=0, removed=0, hunks=[], skipped="too_large")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return FileDiff(added=0, removed=0, hunks=[], skipped="binary")


def _edits(tool_input: Mapping[str, object]) -> list[dict[str, str]]:
    """The well-formed edits (the schema check refuses the rest before anyone is asked)."""
    raw: Any = tool_input.get("edits")
    items: list[Any] = raw if isinstance(raw, list) else []  # pyright: ignore[reportUnknownVariableType]
    return [
        {"old": item["old"], "new": item["new"]}
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("old"), str)  # pyright: ignore[reportUnknownMemberType]
        and isinstance(item.get("new"), str)  # pyright: ignore[reportUnknownMemberType]
    ]


def _refused(
    shown: str, size: int, problem: str, *, overwrite: bool = True, diff: FileDiff | None = None
) -> FilePreview:
    return FilePreview(
        path=shown, bytes=size, overwrite=overwrite, valid_path=True, problem=problem, diff=diff
    )
