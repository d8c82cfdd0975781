"""The history repair and the text cleaning, as pure functions, against the same rules the
model server enforces (`tests.model_server.request_problems`)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gatehouse.history_repair import MAX_INPUT_DEPTH, for_claude, prepare_reply, repair
from gatehouse.sanitise import clean_json, clean_text
from tests.model_server import request_problems

ODD_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=8),  # lone surrogates included
    st.sampled_from(["\udc80", "a\ud800b", ""]),
)
IDS = st.one_of(st.sampled_from(["toolu_a", "toolu_b", "toolu_c"]), ODD_TEXT)


def _result_content(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text or "r"}]


TEXT = st.fixed_dictionaries({"type": st.just("text"), "text": ODD_TEXT})
TOOL_USE = st.fixed_dictionaries(
    {
        "type": st.just("tool_use"),
        "id": IDS,
        "name": st.just("create_file"),
        "input": st.one_of(
            st.dictionaries(ODD_TEXT, ODD_TEXT, max_size=2), st.integers(), st.none()
        ),
    }
)
TOOL_RESULT = st.fixed_dictionaries(
    {
        "type": st.just("tool_result"),
        "tool_use_id": IDS,
        "content": ODD_TEXT.map(_result_content),
    }
)
BLOCK: st.SearchStrategy[dict[str, Any]] = st.one_of(TEXT, TOOL_USE, TOOL_RESULT)
MESSAGE = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["user", "assistant"]),
        "content": st.one_of(ODD_TEXT, st.lists(BLOCK, max_size=4)),
    }
)
HISTORY = st.lists(MESSAGE, max_size=8)
LAST_WORDS = {"role": "user", "content": [{"type": "text", "text": "and now?"}]}


@given(history=HISTORY)
def test_any_stored_history_is_sent_in_a_shape_the_api_accepts(
    history: list[dict[str, Any]],
) -> None:
    loaded = repair([*history, LAST_WORDS]).messages  # as `repair_stored` does on load
    sent = for_claude(loaded).messages
    assert request_problems({"messages": sent}) == []
    assert sent[-1]["content"][-1] == LAST_WORDS["content"][0]  # the person's words go out last


@given(history=HISTORY)
def test_repair_keeps_every_message_in_its_place(history: list[dict[str, Any]]) -> None:
    repaired = repair(copy.deepcopy(history)).messages
    assert [m["role"] for m in repaired] == [m["role"] for m in history]


@given(history=HISTORY)
def test_a_mended_history_needs_no_more_mending(history: list[dict[str, Any]]) -> None:
    once = for_claude(repair([*history, LAST_WORDS]).messages).messages
    twice = for_claude(copy.deepcopy(once))
    assert twice.changes == []
    assert twice.messages == once


def test_a_history_this_app_writes_is_sent_as_it_is() -> None:
    use = {"type": "tool_use", "id": "toolu_1", "name": "create_file", "input": {"path": "a"}}
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": [{"type": "text", "text": "ok"}],
    }
    history = [
        {"role": "user", "content": [{"type": "text", "text": "write a"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Sure."}, use]},
        {"role": "user", "content": [result, {"type": "text", "text": "thanks"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
        {"role": "user", "content": [{"type": "text", "text": "bye"}]},
    ]
    sent = for_claude(copy.deepcopy(history))
    assert sent.changes == []
    assert sent.messages == history


def test_a_repeated_id_in_a_reply_is_replaced_and_refused() -> None:
    earlier = [{"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_old"}]}]
    content: list[dict[str, Any]] = [
        {"type": "tool_use", "id": "toolu_new", "name": "t", "input": {}},
        {"type": "tool_use", "id": "toolu_new", "name": "t", "input": {}},
        {"type": "tool_use", "id": "toolu_old", "name": "t", "input": {}},
        {"type": "tool_use", "id": "bad id!", "name": "t", "input": "not an object"},
    ]
    prepared = prepare_reply(content, earlier)
    ids = [block["id"] for block in prepared.content]
    assert ids[0] == "toolu_new"
    assert len(set(ids)) == 4 and "toolu_old" not in ids and "bad id!" not in ids
    assert set(prepared.refused) == set(ids[1:])
    assert "repeated the id" in prepared.refused[ids[1]]
    assert "unusable id" in prepared.refused[ids[3]]
    assert prepared.content[3]["input"] == {}


def test_an_input_nested_too_deep_is_refused() -> None:
    deep: Any = "x"
    for _ in range(MAX_INPUT_DEPTH - 1):  # in the input object: MAX_INPUT_DEPTH levels
        deep = [deep]
    content: list[dict[str, Any]] = [
        {"type": "tool_use", "id": "toolu_ok", "name": "t", "input": {"a": deep}},
        {"type": "tool_use", "id": "toolu_deep", "name": "t", "input": {"a": [deep]}},
    ]
    prepared = prepare_reply(content, [])
    assert list(prepared.refused) == ["toolu_deep"]
    assert prepared.refused["toolu_deep"].startswith("[invalid_input]")


@given(
    value=st.recursive(ODD_TEXT, lambda inner: st.lists(inner) | st.dictionaries(ODD_TEXT, inner))
)
def test_cleaned_json_always_encodes_and_keeps_what_was_valid(value: Any) -> None:
    original = copy.deepcopy(value)
    cleaned = clean_json(value)
    json.dumps(cleaned, ensure_ascii=False).encode()  # raises on a lone surrogate
    if _encodable(original):
        assert cleaned == original


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    assert clean_text("a\udc80b") == "a\ufffdb"
    assert clean_text("\ud83d\ude00") == "😀"  # a pair split in two escapes is one character
    assert clean_text("plain") == "plain"


def test_deep_nesting_is_cleaned_without_recursion() -> None:
    value: Any = "\udc80"
    for _ in range(20_000):
        value = [value]
    cleaned = clean_json(value)
    for _ in range(20_000):
        cleaned = cleaned[0]
    assert cleaned == "\ufffd"


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True
