"""The draft of a tool call's input: however Claude's JSON is cut into fragments, every value
read along the way is a prefix of the final one, and the last read is the final value."""

from __future__ import annotations

import json
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.partial_json import PartialJson

_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
_objects = st.dictionaries(st.text(), _values, max_size=5)


def is_prefix(partial: Any, final: Any) -> bool:
    """`partial` is what `final` looks like before its text ends (see PartialJson)."""
    if isinstance(final, dict):
        if not isinstance(partial, dict):
            return False
        whole, part = cast(dict[str, Any], final), cast(dict[str, Any], partial)
        return all(key in whole and is_prefix(value, whole[key]) for key, value in part.items())
    if isinstance(final, list):
        if not isinstance(partial, list):
            return False
        whole_list, part_list = cast(list[Any], final), cast(list[Any], partial)
        if len(part_list) > len(whole_list):
            return False
        return all(is_prefix(p, f) for p, f in zip(part_list, whole_list, strict=False))
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    return partial == final and type(partial) is type(final)


def cut(text: str, points: list[int]) -> list[str]:
    bounds = sorted({min(p, len(text)) for p in points} | {0, len(text)})
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=300)
@given(
    value=_objects,
    points=st.lists(st.integers(min_value=0, max_value=2000), max_size=40),
    ascii_only=st.booleans(),
    spaced=st.booleans(),
)
def test_every_read_of_any_cut_is_a_prefix_of_the_final_value(
    value: dict[str, Any], points: list[int], ascii_only: bool, spaced: bool
) -> None:
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, ensure_ascii=ascii_only, separators=separators)
    draft = PartialJson()
    for fragment in cut(text, points):
        draft.feed(fragment)
        seen = draft.value()
        assert seen is None or is_prefix(seen, value), (draft.size, seen)
    assert draft.value() == value


def test_every_prefix_of_a_file_call_is_read_in_order() -> None:
    """Character by character: the path appears whole before the content, which only grows."""
    text = json.dumps({"path": "src/app.py", "content": 'print("olá")\n', "n": 12})
    draft = PartialJson()
    contents: list[str] = []
    for char in text:
        draft.feed(char)
        seen = draft.value() or {}
        if "content" in seen:
            assert seen["path"] == "src/app.py"
            contents.append(seen["content"])
        assert seen.get("n") in (None, 12)  # never 1, a number cut short
    assert contents == sorted(contents, key=len)
    assert contents[-1] == 'print("olá")\n'


def test_text_that_is_not_an_object_reads_as_nothing() -> None:
    for text in ("", "  ", "[1, 2", '"a string', "nonsense"):
        draft = PartialJson()
        draft.feed(text)
        assert draft.value() is None
