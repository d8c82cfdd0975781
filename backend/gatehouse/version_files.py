"""Reading and replacing workspace files for versions, undo, restore and the Files panel.

Every path goes through `safe_paths` first. A file is read through its folder's descriptor
without following a symlink; a replacement is a temporary file in the same folder, fsynced and
renamed over the target (or the target is unlinked), so a reader sees the old file or the new
one, never a mix. Every function here is blocking file I/O: call it in a worker thread.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gatehouse.safe_paths import InvalidPath, locate_in_workspace, normalise_relative
from gatehouse.version_index import ABSENT, FileState
from gatehouse.workspace_files import TEMP_SUFFIX, open_folder, replace_file

_READ_BLOCK = 1_048_576
MAX_LISTED_FILES = 5000
MAX_LISTED_DEPTH = 32


@dataclass(frozen=True)
class Snapshot:
    """A file's state, and its bytes when they are small enough to keep."""

    state: FileState
    data: bytes | None


@dataclass(frozen=True)
class ListedFile:
    path: str
    size: int
    modified: float


def snapshot_at(folder_fd: int, name: str, max_bytes: int) -> Snapshot:
    """The regular file `name` in an open folder; absent when there is none (or a symlink)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=folder_fd)
    except (FileNotFoundError, NotADirectoryError):
        return Snapshot(ABSENT, None)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink, which a write replaces and never follows
            return Snapshot(ABSENT, None)
        raise
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return Snapshot(ABSENT, None)
        if info.st_size > max_bytes:
            return Snapshot(_hash_only(file), None)
        data = file.read()
    if len(data) > max_bytes:  # it grew after the stat
        return Snapshot(FileState(hashlib.sha256(data).hexdigest(), len(data), False), None)
    return Snapshot(FileState(hashlib.sha256(data).hexdigest(), len(data), True), data)


def snapshot(root: Path, path: str, max_bytes: int) -> Snapshot:
    """The file at workspace path `path` (checked by `safe_paths`)."""
    location = locate_in_workspace(root, path)
    if location.missing:
        return Snapshot(ABSENT, None)
    folder_fd = open_folder(location)
    try:
        return snapshot_at(folder_fd, location.name, max_bytes)
    finally:
        os.close(folder_fd)


def replace(root: Path, path: str, data: bytes | None) -> None:
    """Make the file hold `data` atomically (creating missing folders), or remove it (None)."""
    location = locate_in_workspace(root, path)
    if data is None and location.missing:
        return
    folder_fd = open_folder(location)  # makes the missing folders
    try:
        if data is None:
            try:
                os.unlink(location.name, dir_fd=folder_fd)
            except FileNotFoundError:
                pass
        else:
            replace_file(folder_fd, location.name, data)
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


def list_files(root: Path, limit: int = MAX_LISTED_FILES) -> tuple[list[ListedFile], bool]:
    """The workspace's regular files (symlinks are neither listed nor entered), sorted; and
    whether the listing stopped at `limit` files or `MAX_LISTED_DEPTH` folders deep."""
    real_root = Path(os.path.realpath(root))
    found: list[ListedFile] = []
    truncated = False
    for folder, dirs, files in os.walk(real_root, followlinks=False):
        here = Path(folder)
        depth = len(here.relative_to(real_root).parts)
        if depth >= MAX_LISTED_DEPTH:
            dirs.clear()
            truncated = True
        dirs.sort()
        for name in sorted(files):
            if name.endswith(TEMP_SUFFIX):
                continue
            entry = here / name
            try:
                info = entry.lstat()
                shown = normalise_relative(entry.relative_to(real_root).as_posix())
            except (OSError, InvalidPath):
                continue  # a name the tools could never write: not shown
            if not stat.S_ISREG(info.st_mode):
                continue
            if len(found) >= limit:
                return found, True
            found.append(ListedFile(shown, info.st_size, info.st_mtime))
    return found, truncated


def _hash_only(file: BinaryIO) -> FileState:
    hasher, size = hashlib.sha256(), 0
    while block := file.read(_READ_BLOCK):
        hasher.update(block)
        size += len(block)
    return FileState(hasher.hexdigest(), size, False)
