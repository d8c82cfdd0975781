"""Map a path chosen by Claude (or any MCP client) onto a file inside the workspace folder.

The rules are lexical first (no `..`, no absolute or drive paths, no `~`, no NUL, no
backslashes, no percent-encoded separators or dots, no invisible or bidirectional characters,
bounded lengths) and then checked against
the real filesystem: every existing folder on the way is resolved, symlinks included, and must
stay inside the workspace; the target itself must not be a symlink or a folder. The check is
point-in-time: the writer (`workspace_server`) re-checks the folder it opens and replaces the
target atomically, so a symlink planted later is replaced, never followed.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4096

_DRIVE = re.compile(r"^[A-Za-z]:")
# %2f = "/", %5c = "\", %2e = "." and %00 = NUL: a later decoder could turn these into a traversal.
_ENCODED = re.compile(r"%(2f|5c|2e|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Unicode controls, formatting (bidirectional overrides such as U+202E, zero-width U+200B),
# surrogates, private-use and unassigned code points, line and paragraph separators: a name
# holding one shows the person something other than what is written. U+FFFD marks text that
# was not valid Unicode (a lone surrogate is replaced by it on the way in).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_REPLACEMENT = "\ufffd"


class InvalidPath(Exception):
    """The path is refused; the message is a short reason a person (or Claude) can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_relative(relative: str) -> str:
    """Apply the lexical rules and return the path in its normal form (`a/./b` → `a/b`)."""
    return "/".join(_components(relative))


def workspace_root(root: Path) -> Path:
    """Create the workspace folder if missing and return its real, absolute path."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(os.path.realpath(root, strict=True))


def is_inside(root: Path, candidate: Path) -> bool:
    """True when `candidate` is `root` or below it (both real, absolute paths).

    The separator suffix is what keeps `/srv/work2` from passing as inside `/srv/work`.
    """
    root_text, candidate_text = str(root), str(candidate)
    prefix = root_text.rstrip(os.sep) + os.sep
    return candidate_text == root_text or candidate_text.startswith(prefix)


@dataclass(frozen=True)
class WorkspaceLocation:
    """Where a relative path lands: an existing real folder, folders still to create, a name."""

    root: Path
    folder: Path
    missing: tuple[str, ...]
    name: str

    @property
    def path(self) -> Path:
        return self.folder.joinpath(*self.missing, self.name)


def resolve_in_workspace(root: Path, relative: str) -> Path:
    """Return the absolute path `relative` names inside `root`, or raise `InvalidPath`.

    Existing folders on the way are replaced by their real paths, so the result has no symlink
    in it; folders that do not exist yet are kept as plain names (the writer creates them).
    """
    return locate_in_workspace(root, relative).path


def locate_in_workspace(root: Path, relative: str) -> WorkspaceLocation:
    """Check `relative` against the rules and the filesystem; see `resolve_in_workspace`."""
    parts = _components(relative)
    real_root = workspace_root(root)
    folder = real_root
    for index, name in enumerate(parts[:-1]):
        shown = "/".join(parts[: index + 1])
        entered = _step_into_folder(real_root, folder, name, shown)
        if entered is None:  # nothing below a missing folder can exist
            return WorkspaceLocation(real_root, folder, tuple(parts[index:-1]), parts[-1])
        folder = entered
    _check_target(folder / parts[-1], "/".join(parts))
    return WorkspaceLocation(real_root, folder, (), parts[-1])


def _components(relative: object) -> list[str]:
    if not isinstance(relative, str):
        raise InvalidPath("path must be a string")
    if not relative.strip():
        raise InvalidPath("path is empty")
    if "\x00" in relative:
        raise InvalidPath("path contains a NUL byte")
    if _CONTROL.search(relative):
        raise InvalidPath("path contains a control character")
    if (hidden := _hidden_character(relative)) is not None:
        raise InvalidPath(f"path contains an invisible or formatting character (U+{hidden:04X})")
    if "\\" in relative:
        raise InvalidPath("path contains a backslash; use '/' between folders")
    if _ENCODED.search(relative):
        raise InvalidPath("path contains a percent-encoded separator or dot")
    if relative.startswith("~"):
        raise InvalidPath("path starts with '~'; give a path relative to the workspace")
    if relative.startswith("/"):
        raise InvalidPath("path is absolute; give a path relative to the workspace")
    if _DRIVE.match(relative):
        raise InvalidPath("path starts with a drive letter; give a path relative to the workspace")
    if len(relative.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidPath(f"path is longer than {MAX_PATH_BYTES} bytes")
    if relative.endswith("/"):
        raise InvalidPath("path ends with '/'; it must name a file")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    for part in parts:
        if part == "..":
            raise InvalidPath("path contains '..'")
        if len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
            raise InvalidPath(f"a path component is longer than {MAX_COMPONENT_BYTES} bytes")
    if not parts:
        raise InvalidPath("path names the workspace itself, not a file")
    return parts


def _hidden_character(text: str) -> int | None:
    """The code point of the first character a person could not see as written, if any."""
    if text.isascii():
        return None  # ASCII controls are refused by _CONTROL
    for char in text:
        if char == _REPLACEMENT or unicodedata.category(char) in _HIDDEN_CATEGORIES:
            return ord(char)
    return None


def _step_into_folder(real_root: Path, current: Path, name: str, shown: str) -> Path | None:
    """Move one folder down, resolving a symlink there; None when the folder does not exist.

    Anything that leads out of the workspace, or is not a folder, is refused.
    """
    candidate = current / name
    info = _lstat(candidate, shown)
    if info is None:
        return None
    if stat.S_ISLNK(info.st_mode):
        try:
            resolved = Path(os.path.realpath(candidate, strict=True))
        except OSError:
            raise InvalidPath(f"'{shown}' is a broken symlink") from None
        if not is_inside(real_root, resolved):
            raise InvalidPath(f"'{shown}' is a symlink that points outside the workspace")
        candidate, info = resolved, resolved.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidPath(f"'{shown}' is a file, not a folder")
    return candidate


def _check_target(target: Path, shown: str) -> None:
    info = _lstat(target, shown)
    if info is None:
        return
    if stat.S_ISLNK(info.st_mode):
        raise InvalidPath(f"'{shown}' is a symlink; only regular files are written")
    if stat.S_ISDIR(info.st_mode):
        raise InvalidPath(f"'{shown}' is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidPath(f"'{shown}' is not a regular file")


def _lstat(path: Path, shown: str) -> os.stat_result | None:
    """The path's own status (a symlink is not followed), or None when nothing is there."""
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, "OSError")
        raise InvalidPath(f"'{shown}' cannot be checked ({code})") from None
