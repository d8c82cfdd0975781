"""`list_files`: the workspace's files whose relative path matches a glob, bounded.

Globs are wcmatch's (`**` spans folders, `{a,b}` gives alternatives, dot files match); the walk
never follows a symlink and never leaves the workspace, and leaves out the temporary
files of writes under way. It stops after `max_results` matches or `_MAX_VISITED` entries, and
says it stopped, so a huge workspace cannot hold the call for long or flood Claude.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from wcmatch import glob

from gatehouse.safe_paths import workspace_root
from gatehouse.workspace_files import TEMP_NAME

_FLAGS = glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB
_MAX_VISITED = 100_000


@dataclass(frozen=True)
class Listed:
    path: str
    bytes: int


def list_files(workspace_dir: Path, pattern: str, max_results: int) -> tuple[list[Listed], bool]:
    """Matching regular files (folders and names in order) and whether the listing was cut short."""
    root = workspace_root(workspace_dir)
    found: list[Listed] = []
    visited = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            visited += 1
            if visited > _MAX_VISITED or len(found) >= max_results:
                return found, True
            if TEMP_NAME.fullmatch(name):
                continue
            full = Path(folder) / name
            relative = full.relative_to(root).as_posix()
            if not glob.globmatch(relative, pattern, flags=_FLAGS):
                continue
            info = full.lstat()
            if stat.S_ISREG(info.st_mode):  # a symlink is listed by nobody
                found.append(Listed(relative, info.st_size))
    return found, False
