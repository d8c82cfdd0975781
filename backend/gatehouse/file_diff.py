"""The change a write would make to a file, as unified-diff hunks for the approval dialog.

Computed on the server (difflib), where both texts are, and sent bounded: at most
`MAX_DIFF_LINES` lines of hunks (the counts still cover the whole change), and no diff at all
for a file over `MAX_DIFF_BYTES` or one that is not UTF-8 text (the dialog says which).
"""

from __future__ import annotations

import difflib
import re

from gatehouse.protocol import DiffHunk, FileDiff

MAX_DIFF_BYTES = 512 * 1024
MAX_DIFF_LINES = 2000
CONTEXT_LINES = 3
_HUNK_HEAD = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def diff_texts(old: str, new: str) -> FileDiff:
    """The hunks turning `old` into `new`; a new file is `old == ""` (every line added)."""
    if max(len(old), len(new)) > MAX_DIFF_BYTES:  # characters: a cheap first bound
        return FileDiff(added=0, removed=0, hunks=[], skipped="too_large")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), n=CONTEXT_LINES
    )
    hunks: list[DiffHunk] = []
    added = removed = shown = 0
    truncated = False
    current: DiffHunk | None = None
    for line in lines:
        if line.startswith(("---", "+++")) and current is None:
            continue
        if head := _HUNK_HEAD.match(line):
            current = _hunk(head)
            if shown < MAX_DIFF_LINES:
                hunks.append(current)
            continue
        kind, text = line[0], line[1:].rstrip("\r\n")
        added += kind == "+"
        removed += kind == "-"
        if shown >= MAX_DIFF_LINES or current is None or current is not hunks[-1]:
            truncated = True
            continue
        current.lines.append(kind + text)
        shown += 1
    return FileDiff(added=added, removed=removed, hunks=hunks, truncated=truncated)


def _hunk(head: re.Match[str]) -> DiffHunk:
    old_start, old_lines, new_start, new_lines = head.groups()
    return DiffHunk(
        old_start=int(old_start),
        old_lines=int(old_lines) if old_lines is not None else 1,
        new_start=int(new_start),
        new_lines=int(new_lines) if new_lines is not None else 1,
        lines=[],
    )
