"""`edit_file`'s replacements: each `old` text must occur exactly once in the file.

The edits apply in order, each to the text the previous ones left, so a later edit may touch
what an earlier one wrote. Any edit that matches nowhere, or more than once, refuses the whole
call (nothing is written) with the edit's number, so Claude can fix that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gatehouse.workspace_files import FileProblem

EDIT_NOT_FOUND = "edit_not_found"
EDIT_NOT_UNIQUE = "edit_not_unique"
INVALID_ARGUMENTS = "invalid_arguments"


def apply_edits(text: str, edits: Sequence[Mapping[str, str]]) -> str:
    """The text after every edit, or a `FileProblem` naming the first edit that cannot apply."""
    if not edits:
        raise FileProblem(INVALID_ARGUMENTS, "edits: give at least one {old, new}")
    for number, edit in enumerate(edits, start=1):
        old, new = edit["old"], edit["new"]
        if not old:
            raise FileProblem(INVALID_ARGUMENTS, f"edit {number}: `old` is empty")
        found = text.count(old)
        if found == 0:
            raise FileProblem(EDIT_NOT_FOUND, f"edit {number}: `old` does not occur in the file")
        if found > 1:
            raise FileProblem(
                EDIT_NOT_UNIQUE,
                f"edit {number}: `old` occurs {found} times; include more context to pick one",
            )
        text = text.replace(old, new, 1)
    return text
