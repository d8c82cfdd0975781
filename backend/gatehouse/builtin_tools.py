"""What the app does with a call to a built-in tool beyond running it.

A tool of the built-in `workspace` server may come with a `BuiltinTool`: a preview for the
approval card, the input field whose text streams to the person as `tool_chunk` frames while
the call runs, and the input field naming the file it works on (shown in `status_update`).
The server declares one beside each tool function (`workspace_server.build_workspace_server`);
the hub's catalogue attaches it to the tool's entry, and the turn asks the entry, never the
tool's name. Adding a built-in tool is declaring its function and its `BuiltinTool`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from gatehouse.protocol import FilePreview

Previewer = Callable[[Mapping[str, object]], FilePreview]


@dataclass(frozen=True)
class BuiltinTool:
    """The app-side behaviour of one built-in tool, named as the server lists it."""

    name: str
    # What the call would do, computed from its input without side effects.
    preview: Previewer | None = None
    # An input field whose text the tool writes in order, reporting the bytes written so far
    # as MCP progress; that text is relayed to the person as it is written.
    streamed_field: str | None = None
    # An input field holding the workspace path the call works on.
    path_field: str | None = None


class WriteHook(Protocol):
    """Called by the workspace server around the moment a write replaces a file
    (`file_versions.FileVersions` keeps the previous version there)."""

    def around_write(
        self, path: str, folder_fd: int, name: str, data: bytes, meta: Mapping[str, Any] | None
    ) -> AbstractAsyncContextManager[None]: ...
