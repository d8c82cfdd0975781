"""Every read and write the built-in tools make inside the workspace, in one place.

`WorkspaceFiles.write` is the one function through which every tool writes a file
(`create_file`, `edit_file`): the data goes chunk by chunk into a temporary file beside the
target, reporting progress (the cumulative byte count) after each chunk; then the file is
fsynced, given its final mode and renamed over the target, and the folder is fsynced. A
cancelled or failed write removes the temporary file, so a reader only ever sees the old file or
the whole new one. Reads (`read_text`) open the checked folder and then the file without
following a symlink, so a file planted as a link to somewhere else is refused, not read.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from gatehouse.builtin_tools import WriteHook
from gatehouse.safe_paths import (
    InvalidPath,
    WorkspaceLocation,
    is_inside,
    locate_in_workspace,
    normalise_relative,
)

logger = logging.getLogger("gatehouse.workspace_files")

TEMP_SUFFIX = ".gatehouse-partial"
TEMP_NAME = re.compile(r"\.[0-9a-f]{16}" + re.escape(TEMP_SUFFIX))

# Told the cumulative bytes written after each chunk, and the total.
ProgressSink = Callable[[int, int], Awaitable[None]]


class FileProblem(Exception):
    """A read or write refused for a reason the caller can name: `code` and a short text."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Written:
    path: str  # normalised, relative to the workspace
    bytes_written: int
    chunks: int
    overwritten: bool


@dataclass(frozen=True)
class TextFile:
    path: str
    text: str
    exists: bool


@dataclass(frozen=True)
class _Target:
    shown: str  # the path relative to the workspace, in its normal form
    name: str  # the file's name in its folder
    meta: Mapping[str, Any] | None  # the call's `_meta`, for the write hook


class WorkspaceFiles:
    """Reads and writes below one workspace folder, with the server's limits."""

    def __init__(
        self,
        workspace_dir: Path,
        chunk_bytes: int,
        max_file_bytes: int,
        chunk_delay_s: float,
        write_hook: WriteHook | None = None,
    ) -> None:
        self.workspace_dir = workspace_dir
        self._write_hook = write_hook
        self.max_file_bytes = max_file_bytes
        self._chunk_bytes = chunk_bytes
        self._chunk_delay_s = chunk_delay_s
        self._new_file_mode = new_file_mode()

    async def write(
        self,
        path: str,
        data: bytes,
        on_progress: ProgressSink,
        meta: Mapping[str, Any] | None = None,
    ) -> Written:
        """Write `data` as the file `path`, atomically: the one way a tool changes a file.

        The write hook sees the replacement (with the call's `meta`, naming who makes it)."""
        shown = normalise_relative(path)
        location = locate_in_workspace(self.workspace_dir, path)
        if len(data) > self.max_file_bytes:
            raise FileProblem(
                "file_too_large",
                f"content is {len(data)} bytes; the limit is {self.max_file_bytes} bytes",
            )
        folder_fd = await anyio.to_thread.run_sync(open_folder, location)
        try:
            target = _Target(shown, location.name, meta)
            chunks, overwritten = await self._write_into(folder_fd, target, data, on_progress)
        finally:
            os.close(folder_fd)
        logger.info("wrote %s (%d bytes, %d chunks)", shown, len(data), chunks)
        return Written(shown, len(data), chunks, overwritten)

    async def read_text(self, path: str, *, missing_ok: bool = False) -> TextFile:
        """The UTF-8 text of the file `path` (at most the size limit); a missing file is a
        `file_not_found` problem, or empty text when `missing_ok`."""
        shown = normalise_relative(path)
        location = locate_in_workspace(self.workspace_dir, path)
        data = await anyio.to_thread.run_sync(read_file_bytes, location, self.max_file_bytes)
        if data is None:
            if missing_ok:
                return TextFile(shown, "", exists=False)
            raise FileProblem("file_not_found", f"'{shown}' does not exist")
        if len(data) > self.max_file_bytes:
            raise FileProblem(
                "file_too_large", f"'{shown}' is larger than {self.max_file_bytes} bytes"
            )
        try:
            return TextFile(shown, data.decode("utf-8"), exists=True)
        except UnicodeDecodeError:
            raise FileProblem("not_text", f"'{shown}' is not UTF-8 text") from None

    async def _write_into(
        self, folder_fd: int, target: _Target, data: bytes, on_progress: ProgressSink
    ) -> tuple[int, bool]:
        """Write `data` to a temporary file in the open folder and rename it to the target."""
        name = target.name
        old_mode = _regular_file_mode(folder_fd, name)
        temp_name, file_fd = _open_temp(folder_fd)
        renamed = False
        try:
            chunks = await self._write_chunks(file_fd, data, on_progress)
            mode = self._new_file_mode if old_mode is None else old_mode
            await anyio.to_thread.run_sync(_fsync_and_chmod, file_fd, mode)
            async with self._around_write(folder_fd, target, data):
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
        self, folder_fd: int, target: _Target, data: bytes
    ) -> AbstractAsyncContextManager[None]:
        if self._write_hook is None:
            return nullcontext()
        return self._write_hook.around_write(
            target.shown, folder_fd, target.name, data, target.meta
        )

    async def _write_chunks(self, file_fd: int, data: bytes, on_progress: ProgressSink) -> int:
        written = chunks = 0
        for chunk in utf8_chunks(data, self._chunk_bytes):
            await anyio.to_thread.run_sync(_write_all, file_fd, chunk)
            written += len(chunk)
            chunks += 1
            await on_progress(written, len(data))
            # A cancellation (notifications/cancelled, timeout) lands here between chunks.
            await anyio.sleep(self._chunk_delay_s)
        return chunks


def remove_stale_partials(workspace_dir: Path, *, idle_s: float = 0.0) -> int:
    """Remove the temporary files of writes that a killed process left behind; the count.

    Only names this module makes are touched, and symlinked folders are not entered. Run it
    before the app serves: a write of this process cannot be under way yet. With several
    workers another one may be writing: `idle_s` leaves a file modified less than that ago.
    """
    removed = 0
    now = time.time()
    for folder, _dirs, files in os.walk(workspace_dir, followlinks=False):
        for name in files:
            path = Path(folder) / name
            if not TEMP_NAME.fullmatch(name):
                continue
            try:
                found = path.lstat()
            except OSError:
                continue
            if not stat.S_ISREG(found.st_mode) or (idle_s and now - found.st_mtime < idle_s):
                continue
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def os_error_text(exc: OSError) -> str:
    """errno name and text only: the message goes to Claude, so no host paths."""
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    reason = exc.strerror or "operating system error"
    return f"{name}: {reason}"


def read_file_bytes(location: WorkspaceLocation, max_bytes: int) -> bytes | None:
    """At most `max_bytes + 1` bytes of the regular file at `location`; None when missing."""
    if location.missing:
        return None
    folder_fd = os.open(location.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _check_open_folder(location.root, folder_fd)
        try:
            fd = os.open(
                location.name,
                os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK,
                dir_fd=folder_fd,
            )
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidPath("the file is a symlink; only regular files are read") from None
            raise
    finally:
        os.close(folder_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidPath("not a regular file")
        pieces: list[bytes] = []
        left = max_bytes + 1
        while left > 0 and (piece := os.read(fd, min(left, 1 << 20))):
            pieces.append(piece)
            left -= len(piece)
        return b"".join(pieces)
    finally:
        os.close(fd)


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


def replace_file(folder_fd: int, name: str, data: bytes) -> None:
    """Make `name` in the open folder hold `data` at once (blocking; for restores and undo).

    The same steps as a tool's write, without the chunks: a new temporary file beside it,
    fsynced with the old file's permissions (or a new file's), renamed over it. The caller
    fsyncs the folder."""
    old_mode = _regular_file_mode(folder_fd, name)
    temp_name, file_fd = _open_temp(folder_fd)
    renamed = False
    try:
        _write_all(file_fd, data)
        _fsync_and_chmod(file_fd, new_file_mode() if old_mode is None else old_mode)
        os.replace(temp_name, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        renamed = True
    finally:
        os.close(file_fd)
        if not renamed:
            _remove_quietly(temp_name, folder_fd)


def new_file_mode() -> int:
    """A new file's permissions: rw-r--r-- under the process's umask."""
    return 0o644 & ~_current_umask()


def _open_temp(folder_fd: int) -> tuple[str, int]:
    """A new temporary file in the open folder: never an existing name, never through a link."""
    name = f".{secrets.token_hex(8)}{TEMP_SUFFIX}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return name, os.open(name, flags, 0o600, dir_fd=folder_fd)


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


def open_folder(location: WorkspaceLocation) -> int:
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
        logger.warning("could not remove temporary file: %s", os_error_text(exc))
