"""Content-addressed blobs: the kept contents of file versions, under the data folder.

A blob is named by the SHA-256 of its bytes (`ab/abcdef…`), so the same content is kept once
however many versions name it. It is written to a temporary file beside its final name,
fsynced and renamed, so a blob on disk is always whole. Names come only from `digest` (the
app's own hash), never from a request: `path_of` refuses anything else.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

_NAME = re.compile(r"[0-9a-f]{64}")
_TEMP_SUFFIX = ".partial"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Blobs under `root` (created if missing); every method is blocking file I/O."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError("not a blob name")
        return self.root / name[:2] / name

    def put(self, data: bytes) -> str:
        """Keep `data`; its name. An existing blob of that name is left as it is."""
        name = digest(data)
        target = self.path_of(name)
        if target.exists():
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{secrets.token_hex(8)}{_TEMP_SUFFIX}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.replace(temp, target)
        _fsync_folder(target.parent)
        return name

    def get(self, name: str) -> bytes:
        return self.path_of(name).read_bytes()

    def has(self, name: str) -> bool:
        return self.path_of(name).is_file()

    def delete(self, name: str) -> None:
        self.path_of(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        """Every blob kept (temporary files of interrupted writes are removed on the way)."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if _NAME.fullmatch(entry.name):
                    yield entry.name
                elif entry.name.endswith(_TEMP_SUFFIX):
                    entry.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
