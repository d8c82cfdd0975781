"""A tool call's input while Claude is still writing it: `input_json_delta` fragments in, the
value so far out.

The parsing is jiter's partial mode (the parser the `anthropic` SDK uses for the same job),
keeping an unfinished string's text. What jiter cannot know is whether a number at the very end
is complete (`12` may yet become `123`), so a trailing number is left out until something
follows it. That keeps the promise the draft view relies on: every value read is a prefix of
the final one (tests/test_partial_json.py states it as a property over any cut of any object).
"""

from __future__ import annotations

from typing import Any, cast

import jiter

JsonDict = dict[str, Any]
_NUMBER_END = frozenset("0123456789")


class PartialJson:
    """The fragments of one JSON object received so far, read as the value they start."""

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._size = 0

    @property
    def size(self) -> int:
        """Characters received so far."""
        return self._size

    def feed(self, fragment: str) -> None:
        self._pieces.append(fragment)
        self._size += len(fragment)

    def value(self) -> JsonDict | None:
        """The object so far, or None before its `{` (or when the text is not JSON)."""
        text = "".join(self._pieces)
        self._pieces = [text]  # joined once: the next read starts from one piece
        if not text.strip():
            return None
        try:
            parsed = jiter.from_json(text.encode(), partial_mode="trailing-strings")
        except ValueError:
            return None  # not JSON, or a lone surrogate escape: the final check says so
        if not isinstance(parsed, dict):
            return None
        value = cast(JsonDict, parsed)
        if text[-1] in _NUMBER_END:
            _drop_last_number(value)
        return value


def _drop_last_number(value: JsonDict) -> None:
    """Remove the innermost last item when it is a number (it may not be complete yet)."""
    container: JsonDict | list[Any] = value
    while True:
        if isinstance(container, dict):
            if not container:
                return
            key = next(reversed(container))
            last = container[key]
        else:
            if not container:
                return
            key = len(container) - 1
            last = container[key]
        if isinstance(last, dict | list):
            container = cast(JsonDict | list[Any], last)
            continue
        if isinstance(last, int | float) and not isinstance(last, bool):
            if isinstance(container, dict):
                del container[cast(str, key)]
            else:
                container.pop()
        return
