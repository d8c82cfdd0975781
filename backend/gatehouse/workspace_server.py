"""The built-in `workspace` MCP server: one tool, `create_file`, that writes a text file.

The app connects to it in memory through the tool hub; it also runs alone over stdio or
streamable HTTP for any other MCP client (`python -m gatehouse.workspace_server [--http PORT]`).

A write goes chunk by chunk into a temporary file beside the target, reporting progress (the
cumulative byte count) after each chunk; then the file is fsynced, given its final mode and
renamed over the target, and the folder is fsynced. A cancelled or failed call removes the
temporary file, so a reader only ever sees the old file or the whole new one. Empty content
writes an empty file and reports no progress (there is no chunk).

Tool errors start with a bracketed code the client can pick out (see `parse_tool_error`):
`[invalid_arguments]` (an argument missing or of the wrong type), `[invalid_path]`,
`[file_too_large]`, `[write_failed]` and `[tool_error]`.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from gatehouse.builtin_tools import BuiltinTool, WriteHook
from gatehouse.file_preview import preview_create_file
from gatehouse.safe_paths import (
    InvalidPath,
    WorkspaceLocation,
    is_inside,
    locate_in_workspace,
    normalise_relative,
)

logger = logging.getLogger("gatehouse.workspace_server")

SERVER_NAME = "workspace"
TOOL_NAME = "create_file"

INVALID_ARGUMENTS = "invalid_arguments"
INVALID_PATH = "invalid_path"
FILE_TOO_LARGE = "file_too_large"
WRITE_FAILED = "write_failed"
TOOL_ERROR = "tool_error"

_TEMP_SUFFIX = ".gatehouse-partial"
_TEMP_NAME = re.compile(r"\.[0-9a-f]{16}" + re.escape(_TEMP_SUFFIX))
_ERROR_CODE = re.compile(r"\[([a-z_]+)\]\s*(.*)", re.DOTALL)
_SDK_PREFIX = re.compile(r"^Error executing tool [^:]*:\s*")

CREATE_FILE_DESCRIPTION = (
    "Create a text file in the user's workspace folder, or overwrite it if it already exists. "
    "`path` is relative to the workspace (for example `notes/todo.md`); missing folders are "
    "created. Absolute paths, `..`, `~`, backslashes and symlinks are refused. `content` is the "
    "complete text of the file, written as UTF-8; the user watches it arrive and must approve "
    "the call first. Errors start with a code in brackets: [invalid_arguments], [invalid_path], "
    "[file_too_large], [write_failed] or [tool_error]."
)


class CreateFileResult(BaseModel):
    """What `create_file` returns as structured content."""

    path: str = Field(description="The file written, relative to the workspace")
    bytes_written: int = Field(description="Size of the file in bytes (UTF-8)")
    chunks: int = Field(description="How many chunks the content was written in")
    overwritten: bool = Field(description="True when a file was already there and was replaced")


class WorkspaceServer(MCPServer[Any]):
    """The `workspace` MCP server, with what the app does around each tool's calls."""

    def __init__(self) -> None:
        super().__init__(
            SERVER_NAME,
            instructions="Writes text files into the user's workspace folder, after approval.",
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


def remove_stale_partials(workspace_dir: Path) -> int:
    """Remove the temporary files of writes that a killed process left behind; the count.

    Only names this server makes are touched, and symlinked folders are not entered. Run it
    before the app serves: a write of this process cannot be under way yet.
    """
    removed = 0
    for folder, _dirs, files in os.walk(workspace_dir, followlinks=False):
        for name in files:
            path = Path(folder) / name
            if _TEMP_NAME.fullmatch(name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


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
    writer = _FileWriter(workspace_dir, chunk_bytes, max_file_bytes, chunk_delay_s, write_hook)
    server = WorkspaceServer()
    server.builtin_tools[TOOL_NAME] = BuiltinTool(
        TOOL_NAME,
        preview=partial(preview_create_file, workspace_dir, max_file_bytes),
        streamed_field="content",  # written in order, progress counting the bytes so far
        path_field="path",
    )

    @server.tool(
        name=TOOL_NAME,
        title="Create file",
        description=CREATE_FILE_DESCRIPTION,
        annotations=ToolAnnotations(
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        ),
    )
    async def create_file(  # pyright: ignore[reportUnusedFunction]
        path: Annotated[
            str, Field(description="File path relative to the workspace, e.g. `src/app.py`")
        ],
        content: Annotated[str, Field(description="The complete text of the file")],
        ctx: Context[Any, Any],
    ) -> CreateFileResult:
        return await writer.create_file(path, content, ctx)

    return server


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


def utf8_chunks(data: bytes, chunk_bytes: int) -> Iterator[bytes]:
    """Cut UTF-8 bytes into chunks of at most `chunk_bytes`, never inside a character.

    A character longer than `chunk_bytes` becomes a chunk of its own.
    """
    start, size = 0, len(data)
    while start < size:
        end = min(start + chunk_bytes, size)
        while start < end < size and _is_continuation(data[end]):
            end -= 1
        if end == start:
            end = start + 1
            while end < size and _is_continuation(data[end]):
                end += 1
        yield data[start:end]
        start = end


def _is_continuation(byte: int) -> bool:
    return byte & 0b1100_0000 == 0b1000_0000


def _arguments_problems(error: ValidationError) -> str:
    """`path: Field required; content: Input should be a valid string`: names, never values."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'arguments'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)
    ]
    return "; ".join(problems)


def _tool_error(code: str, message: str) -> ToolError:
    return ToolError(f"[{code}] {message}")


def _os_error_text(exc: OSError) -> str:
    """errno name and text only: the message goes to Claude, so no host paths."""
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    reason = exc.strerror or "operating system error"
    return f"{name}: {reason}"


def _current_umask() -> int:
    """Read the umask without changing it where possible (os.umask is process-wide and racy)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _FileWriter:
    """The work behind `create_file`, shared by every call of one server."""

    def __init__(
        self,
        workspace_dir: Path,
        chunk_bytes: int,
        max_file_bytes: int,
        chunk_delay_s: float,
        write_hook: WriteHook | None,
    ) -> None:
        self._workspace_dir = workspace_dir
        self._write_hook = write_hook
        self._chunk_bytes = chunk_bytes
        self._max_file_bytes = max_file_bytes
        self._chunk_delay_s = chunk_delay_s
        self._new_file_mode = 0o644 & ~_current_umask()

    async def create_file(
        self, path: str, content: str, ctx: Context[Any, Any]
    ) -> CreateFileResult:
        try:
            return await self._create_file(path, content, ctx)
        except ToolError:
            raise
        except InvalidPath as exc:
            raise _tool_error(INVALID_PATH, exc.reason) from None
        except OSError as exc:
            logger.warning("create_file %r failed: %s", path, _os_error_text(exc))
            reason = f"could not write the file ({_os_error_text(exc)})"
            raise _tool_error(WRITE_FAILED, reason) from None
        except Exception as exc:
            logger.exception("create_file %r failed", path)
            raise _tool_error(TOOL_ERROR, f"unexpected {type(exc).__name__}") from None

    async def _create_file(
        self, path: str, content: str, ctx: Context[Any, Any]
    ) -> CreateFileResult:
        shown = normalise_relative(path)
        location = locate_in_workspace(self._workspace_dir, path)
        try:
            data = content.encode("utf-8")
        except UnicodeEncodeError:
            raise _tool_error(TOOL_ERROR, "content is not valid Unicode text") from None
        if len(data) > self._max_file_bytes:
            raise _tool_error(
                FILE_TOO_LARGE,
                f"content is {len(data)} bytes; the limit is {self._max_file_bytes} bytes",
            )
        folder_fd = await anyio.to_thread.run_sync(_open_folder, location)
        try:
            chunks, overwritten = await self._write_into(
                folder_fd, _Target(shown, location.name), data, ctx
            )
        finally:
            os.close(folder_fd)
        logger.info("create_file wrote %s (%d bytes, %d chunks)", shown, len(data), chunks)
        return CreateFileResult(
            path=shown, bytes_written=len(data), chunks=chunks, overwritten=overwritten
        )

    async def _write_into(
        self, folder_fd: int, target: _Target, data: bytes, ctx: Context[Any, Any]
    ) -> tuple[int, bool]:
        """Write `data` to a temporary file in the open folder and rename it to the target.

        Every built-in write goes through here: the write hook sees each replacement."""
        name = target.name
        old_mode = _regular_file_mode(folder_fd, name)
        temp_name = f".{secrets.token_hex(8)}{_TEMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        file_fd = os.open(temp_name, flags, 0o600, dir_fd=folder_fd)
        renamed = False
        try:
            chunks = await self._write_chunks(file_fd, data, ctx)
            mode = self._new_file_mode if old_mode is None else old_mode
            await anyio.to_thread.run_sync(_fsync_and_chmod, file_fd, mode)
            async with self._around_write(folder_fd, target, data, ctx):
                # os.replace swaps the name atomically and replaces (never follows) a symlink.
                os.replace(temp_name, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
                renamed = True
                await anyio.to_thread.run_sync(os.fsync, folder_fd)
            return chunks, old_mode is not None
        finally:
            os.close(file_fd)
            if not renamed:
                _remove_quietly(temp_name, folder_fd)

    def _around_write(
        self, folder_fd: int, target: _Target, data: bytes, ctx: Context[Any, Any]
    ) -> AbstractAsyncContextManager[None]:
        if self._write_hook is None:
            return nullcontext()
        meta = ctx.request_context.meta
        return self._write_hook.around_write(target.shown, folder_fd, target.name, data, meta)

    async def _write_chunks(self, file_fd: int, data: bytes, ctx: Context[Any, Any]) -> int:
        written = chunks = 0
        for chunk in utf8_chunks(data, self._chunk_bytes):
            await anyio.to_thread.run_sync(_write_all, file_fd, chunk)
            written += len(chunk)
            chunks += 1
            await ctx.report_progress(written, len(data), f"chunk {chunks}")
            # A cancellation (notifications/cancelled, timeout) lands here between chunks.
            await anyio.sleep(self._chunk_delay_s)
        return chunks


@dataclass(frozen=True)
class _Target:
    shown: str  # the path relative to the workspace, in its normal form
    name: str  # the file's name in its folder


def _open_folder(location: WorkspaceLocation) -> int:
    """Open the target's folder (creating missing levels) and return its fd.

    The existing part was checked by `locate_in_workspace`; it is checked again once open, in
    case it was swapped meanwhile. Each new level is opened without following symlinks.
    """
    fd = os.open(location.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _check_open_folder(location.root, fd)
        for name in location.missing:
            try:
                os.mkdir(name, 0o777, dir_fd=fd)
            except FileExistsError:
                pass  # made by a concurrent call; opened below without following symlinks
            next_fd = os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_open_folder(root: Path, fd: int) -> None:
    proc_link = f"/proc/self/fd/{fd}"
    if not os.path.exists(proc_link):
        return  # no /proc: the point-in-time check of locate_in_workspace stands
    if not is_inside(root, Path(os.readlink(proc_link))):
        raise InvalidPath("the folder moved outside the workspace while it was being opened")


def _regular_file_mode(folder_fd: int, name: str) -> int | None:
    """Permission bits of the regular file `name`, or None when there is none (or a symlink)."""
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_and_chmod(fd: int, mode: int) -> None:
    os.fsync(fd)
    os.fchmod(fd, mode)


def _remove_quietly(name: str, folder_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=folder_fd)
    except OSError as exc:
        logger.warning("could not remove temporary file: %s", _os_error_text(exc))


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
