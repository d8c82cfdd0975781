"""Text that can travel: every string bound for Claude, the person or the store is made
encodable as UTF-8, the same way everywhere.

JSON can carry a lone surrogate (`"\\udc80"`), which Python decodes into a `str` that UTF-8
cannot encode; the SDK, pydantic and the database drivers then fail on it, and a history
holding one can never be sent again. Each lone surrogate becomes U+FFFD, as a UTF-8 decoder
does with a broken byte. Pairs written as two escapes are joined into their character.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

REPLACEMENT = "\ufffd"

T = TypeVar("T")


def clean_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (the same object when none)."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_json(value: T) -> T:
    """Clean every string of a JSON value (object keys included), in place where it can.

    Walks with an explicit stack, so a deeply nested value cannot exhaust the recursion limit.
    """
    if isinstance(value, str):
        return cast(T, clean_text(value))
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            _clean_object(cast(dict[Any, Any], node), stack)
        elif isinstance(node, list):
            items = cast(list[Any], node)
            for index, item in enumerate(items):
                if isinstance(item, str):
                    items[index] = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return value


def _clean_object(node: dict[Any, Any], stack: list[Any]) -> None:
    if not all(not isinstance(key, str) or key.isascii() for key in node):
        entries = list(node.items())
        node.clear()
        for key, item in entries:
            node[clean_text(key) if isinstance(key, str) else key] = item
    for key, item in node.items():
        if isinstance(item, str):
            node[key] = clean_text(item)
        elif isinstance(item, dict | list):
            stack.append(item)
