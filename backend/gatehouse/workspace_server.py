"""The built-in `workspace` MCP server: `create_file`, `edit_file`, `read_file`, `list_files`.

The app connects to it in memory through the tool hub; it also runs alone over stdio or
streamable HTTP for any other MCP client (`python -m gatehouse.workspace_server [--http PORT]`).

Every file a tool writes goes through `WorkspaceFiles.write` (workspace_files.py): chunk by
chunk into a temporary file, progress after each chunk, fsync, atomic rename. `edit_file` reads
the file, applies exact-match replacements (file_edits.py) and writes the result the same way.
`read_file` and `list_files` only read, and say so (`readOnlyHint`), with bounded output.

Tool errors start with a bracketed code the client can pick out (see `parse_tool_error`):
`[invalid_arguments]` (an argument missing or of the wrong type), `[invalid_path]`,
`[file_not_found]`, `[not_text]`, `[edit_not_found]`, `[edit_not_unique]`,
`[file_too_large]`, `[write_failed]`, `[read_failed]` and `[tool_error]`.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from gatehouse.builtin_tools import BuiltinTool, WriteHook
from gatehouse.file_edits import apply_edits
from gatehouse.file_listing import list_files
from gatehouse.file_preview import preview_create_file, preview_edit_file
from gatehouse.safe_paths import InvalidPath
from gatehouse.workspace_files import (
    FileProblem,
    WorkspaceFiles,
    os_error_text,
    remove_stale_partials,
    utf8_chunks,
)

__all__ = ["remove_stale_partials", "utf8_chunks"]

logger = logging.getLogger("gatehouse.workspace_server")

SERVER_NAME = "workspace"
TOOL_NAME = "create_file"
EDIT_TOOL = "edit_file"
READ_TOOL = "read_file"
LIST_TOOL = "list_files"

INVALID_ARGUMENTS = "invalid_arguments"
INVALID_PATH = "invalid_path"
FILE_TOO_LARGE = "file_too_large"
WRITE_FAILED = "write_failed"
READ_FAILED = "read_failed"
TOOL_ERROR = "tool_error"

MAX_READ_LINES = 2000
MAX_READ_CHARS = 100_000
MAX_LISTED = 1000

_ERROR_CODE = re.compile(r"\[([a-z_]+)\]\s*(.*)", re.DOTALL)
_SDK_PREFIX = re.compile(r"^Error executing tool [^:]*:\s*")
_T = TypeVar("_T")

_CODES = "Errors start with a code in brackets: [invalid_arguments], [invalid_path], "
CREATE_FILE_DESCRIPTION = (
    "Create a text file in the user's workspace folder, or overwrite it if it already exists. "
    "`path` is relative to the workspace (for example `notes/todo.md`); missing folders are "
    "created. Absolute paths, `..`, `~`, backslashes and symlinks are refused. `content` is the "
    "complete text of the file, written as UTF-8; the user watches it arrive and must approve "
    "the call first. Errors start with a code in brackets: [invalid_arguments], [invalid_path], "
    "[file_too_large], [write_failed] or [tool_error]."
)
EDIT_FILE_DESCRIPTION = (
    "Change part of an existing text file in the user's workspace without rewriting it. Each "
    "edit replaces the exact text `old` with `new`; `old` must occur exactly once in the file "
    "(include enough surrounding lines to make it unique). Edits apply in order; if any cannot "
    "apply, nothing is written. The user sees the diff and must approve the call first. "
    + _CODES
    + "[file_not_found], [not_text], [edit_not_found], [edit_not_unique], [file_too_large], "
    "[write_failed] or [tool_error]."
)
READ_FILE_DESCRIPTION = (
    "Read a UTF-8 text file of the user's workspace. Returns at most "
    f"{MAX_READ_LINES} lines or {MAX_READ_CHARS} characters from `start_line` (1-based); "
    "`truncated` and `next_line` say where to go on. "
    + _CODES
    + "[file_not_found], [not_text], [file_too_large], [read_failed] or [tool_error]."
)
LIST_FILES_DESCRIPTION = (
    "List the files of the user's workspace whose path (relative, with `/`) matches a glob: "
    "`**` spans folders, `{a,b}` gives alternatives (for example `src/**/*.{py,ts}`). Returns "
    f"at most `max_results` (up to {MAX_LISTED}) files with their sizes; `truncated` says "
    "there were more. " + _CODES + "[read_failed] or [tool_error]."
)


class CreateFileResult(BaseModel):
    """What `create_file` returns as structured content."""

    path: str = Field(description="The file written, relative to the workspace")
    bytes_written: int = Field(description="Size of the file in bytes (UTF-8)")
    chunks: int = Field(description="How many chunks the content was written in")
    overwritten: bool = Field(description="True when a file was already there and was replaced")


class Edit(BaseModel):
    old: str = Field(description="Exact text to replace; must occur exactly once in the file")
    new: str = Field(description="The text to put in its place")


class EditFileResult(BaseModel):
    """What `edit_file` returns as structured content."""

    path: str = Field(description="The file changed, relative to the workspace")
    bytes_written: int = Field(description="Size of the file after the edits, in bytes")
    edits: int = Field(description="How many edits were applied")


class ReadFileResult(BaseModel):
    """What `read_file` returns as structured content."""

    path: str
    text: str = Field(description="The lines read, with their line endings")
    start_line: int
    end_line: int = Field(description="The last line returned (start_line - 1 when none)")
    total_lines: int
    truncated: bool = Field(description="True when lines after end_line were left out")
    next_line: int | None = Field(description="Where to go on reading, when truncated")


class ListedFile(BaseModel):
    path: str
    bytes: int


class ListFilesResult(BaseModel):
    """What `list_files` returns as structured content."""

    files: list[ListedFile]
    truncated: bool = Field(description="True when more files matched than were returned")


class WorkspaceServer(MCPServer[Any]):
    """The `workspace` MCP server, with what the app does around each tool's calls."""

    def __init__(self) -> None:
        super().__init__(
            SERVER_NAME,
            instructions="Reads, lists and (after approval) writes text files in the user's "
            "workspace folder.",
        )
        self.builtin_tools: dict[str, BuiltinTool] = {}

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """The SDK's call, with arguments that fail validation answered `[invalid_arguments]`
        like every other error of this server (the SDK's own text carries no code)."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            raise _tool_error(INVALID_ARGUMENTS, _arguments_problems(cause)) from cause


def build_workspace_server(
    workspace_dir: Path,
    chunk_bytes: int,
    max_file_bytes: int,
    *,
    chunk_delay_s: float = 0.0,
    write_hook: WriteHook | None = None,
) -> WorkspaceServer:
    """Build the `workspace` server; `chunk_delay_s` slows each chunk down (tests only);
    `write_hook` is called around every replacement of a file (the app keeps versions)."""
    if chunk_bytes < 1 or max_file_bytes < 0 or chunk_delay_s < 0:
        raise ValueError("chunk_bytes must be >= 1, max_file_bytes and chunk_delay_s >= 0")
    files = WorkspaceFiles(workspace_dir, chunk_bytes, max_file_bytes, chunk_delay_s, write_hook)
    server = WorkspaceServer()
    server.builtin_tools[TOOL_NAME] = BuiltinTool(
        TOOL_NAME,
        preview=partial(preview_create_file, workspace_dir, max_file_bytes),
        streamed_field="content",  # written in order, progress counting the bytes so far
        path_field="path",
    )
    server.builtin_tools[EDIT_TOOL] = BuiltinTool(
        EDIT_TOOL,
        preview=partial(preview_edit_file, workspace_dir, max_file_bytes),
        path_field="path",
    )
    server.builtin_tools[READ_TOOL] = BuiltinTool(READ_TOOL, path_field="path")
    _declare_writers(server, files)
    _declare_readers(server, files)
    return server


def _write_annotations(idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
PathArgument = Annotated[
    str, Field(description="File path relative to the workspace, e.g. `src/app.py`")
]


def _declare_writers(server: WorkspaceServer, files: WorkspaceFiles) -> None:
    @server.tool(
        name=TOOL_NAME,
        title="Create file",
        description=CREATE_FILE_DESCRIPTION,
        annotations=_write_annotations(idempotent=True),
    )
    async def create_file(  # pyright: ignore[reportUnusedFunction]
        path: PathArgument,
        content: Annotated[str, Field(description="The complete text of the file")],
        ctx: Context[Any, Any],
    ) -> CreateFileResult:
        async def work() -> CreateFileResult:
            written = await files.write(
                path, _utf8(content), _progress(ctx), ctx.request_context.meta
            )
            return CreateFileResult(
                path=written.path,
                bytes_written=written.bytes_written,
                chunks=written.chunks,
                overwritten=written.overwritten,
            )

        return await _guarded(TOOL_NAME, path, work)

    @server.tool(
        name=EDIT_TOOL,
        title="Edit file",
        description=EDIT_FILE_DESCRIPTION,
        annotations=_write_annotations(idempotent=False),
    )
    async def edit_file(  # pyright: ignore[reportUnusedFunction]
        path: PathArgument,
        edits: Annotated[
            list[Edit], Field(description="Replacements, applied in order", min_length=1)
        ],
        ctx: Context[Any, Any],
    ) -> EditFileResult:
        async def work() -> EditFileResult:
            current = await files.read_text(path)
            changed = apply_edits(current.text, [edit.model_dump() for edit in edits])
            written = await files.write(
                path, _utf8(changed), _progress(ctx), ctx.request_context.meta
            )
            return EditFileResult(
                path=written.path, bytes_written=written.bytes_written, edits=len(edits)
            )

        return await _guarded(EDIT_TOOL, path, work)


def _declare_readers(server: WorkspaceServer, files: WorkspaceFiles) -> None:
    @server.tool(
        name=READ_TOOL, title="Read file", description=READ_FILE_DESCRIPTION, annotations=_READ_ONLY
    )
    async def read_file(  # pyright: ignore[reportUnusedFunction]
        path: PathArgument,
        start_line: Annotated[int, Field(description="First line to return (1-based)", ge=1)] = 1,
        max_lines: Annotated[
            int, Field(description="Most lines to return", ge=1, le=MAX_READ_LINES)
        ] = MAX_READ_LINES,
    ) -> ReadFileResult:
        async def work() -> ReadFileResult:
            current = await files.read_text(path)
            return _read_window(current.path, current.text, start_line, max_lines)

        return await _guarded(READ_TOOL, path, work, failure=READ_FAILED)

    @server.tool(
        name=LIST_TOOL,
        title="List files",
        description=LIST_FILES_DESCRIPTION,
        annotations=_READ_ONLY,
    )
    async def list_workspace(  # pyright: ignore[reportUnusedFunction]
        pattern: Annotated[str, Field(description="A glob, e.g. `**/*.md`")] = "**",
        max_results: Annotated[int, Field(ge=1, le=MAX_LISTED)] = 200,
    ) -> ListFilesResult:
        async def work() -> ListFilesResult:
            found, cut = await anyio.to_thread.run_sync(
                list_files, files.workspace_dir, pattern, max_results
            )
            listed = [ListedFile(path=item.path, bytes=item.bytes) for item in found]
            return ListFilesResult(files=listed, truncated=cut)

        return await _guarded(LIST_TOOL, pattern, work, failure=READ_FAILED)


def _read_window(path: str, text: str, start_line: int, max_lines: int) -> ReadFileResult:
    """Lines from `start_line`, at most `max_lines` and `MAX_READ_CHARS` (always one line)."""
    lines = text.splitlines(keepends=True)
    taken: list[str] = []
    size = 0
    for line in lines[start_line - 1 : start_line - 1 + max_lines]:
        if taken and size + len(line) > MAX_READ_CHARS:
            break
        taken.append(line[:MAX_READ_CHARS])
        size += len(line)
    end_line = start_line - 1 + len(taken)
    truncated = end_line < len(lines)
    return ReadFileResult(
        path=path,
        text="".join(taken),
        start_line=start_line,
        end_line=end_line,
        total_lines=len(lines),
        truncated=truncated,
        next_line=end_line + 1 if truncated else None,
    )


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _tool_error(TOOL_ERROR, "content is not valid Unicode text") from None


def _progress(ctx: Context[Any, Any]) -> Callable[[int, int], Awaitable[None]]:
    chunks = 0

    async def report(written: int, total: int) -> None:
        nonlocal chunks
        chunks += 1
        await ctx.report_progress(written, total, f"chunk {chunks}")

    return report


async def _guarded(
    tool: str, path: str, work: Callable[[], Awaitable[_T]], *, failure: str = WRITE_FAILED
) -> _T:
    """Run one call's work, turning every problem into a `[code] reason` tool error."""
    try:
        return await work()
    except ToolError:
        raise
    except InvalidPath as exc:
        raise _tool_error(INVALID_PATH, exc.reason) from None
    except FileProblem as exc:
        raise _tool_error(exc.code, exc.reason) from None
    except OSError as exc:
        logger.warning("%s %r failed: %s", tool, path, os_error_text(exc))
        verb = "write" if failure == WRITE_FAILED else "read"
        raise _tool_error(failure, f"could not {verb} the file ({os_error_text(exc)})") from None
    except Exception as exc:
        logger.exception("%s %r failed", tool, path)
        raise _tool_error(TOOL_ERROR, f"unexpected {type(exc).__name__}") from None


def serve(
    workspace_dir: Path, chunk_bytes: int, max_file_bytes: int, http_port: int | None
) -> None:
    """Run the server alone: stdio by default, or streamable HTTP on 127.0.0.1:`http_port`."""
    server = build_workspace_server(workspace_dir, chunk_bytes, max_file_bytes)
    if http_port is None:
        logger.info("workspace server on stdio, workspace %s", workspace_dir)
        server.run()
        return
    logger.info("workspace server on http://127.0.0.1:%d/mcp", http_port)
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=http_port,
        # The content travels JSON-escaped (up to 6 bytes per byte): let an oversized file reach
        # the tool, which answers [file_too_large], instead of a bare HTTP 413.
        max_request_body_size=6 * max_file_bytes + 1_048_576,
    )


def parse_tool_error(text: str) -> tuple[str, str]:
    """Split a tool error text into (code, message); `tool_error` when there is no code.

    The SDK puts `Error executing tool create_file: ` before the text of a `ToolError`.
    """
    match = _ERROR_CODE.search(text)
    if match:
        return match.group(1), match.group(2).strip()
    return TOOL_ERROR, _SDK_PREFIX.sub("", text).strip()


def _arguments_problems(error: ValidationError) -> str:
    """`path: Field required; content: Input should be a valid string`: names, never values."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)
    ]
    return "; ".join(problems)


def _tool_error(code: str, message: str) -> ToolError:
    return ToolError(f"[{code}] {message}")


def main(argv: list[str] | None = None) -> None:
    """`python -m gatehouse.workspace_server [--http PORT]`, configured from the environment."""
    from gatehouse.settings import SettingsError, load_settings

    parser = argparse.ArgumentParser(description="Gatehouse's workspace MCP server")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as exc:
        logger.error("%s", exc)
        raise SystemExit(2) from None
    serve(settings.workspace_dir, settings.tool_chunk_bytes, settings.max_file_bytes, args.http)


if __name__ == "__main__":
    main()
