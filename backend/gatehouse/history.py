"""One named converter between message layers: stored Anthropic messages → UI history.

The UI shows one bubble per person's message and one per reply; a reply that went through
tool calls spans several assistant messages in Claude's history and becomes one bubble here.
Each bubble lists the calls its reply made, with their stored status, so a reload redraws
their cards; a call screened out (`invalid`) was never shown, so it is not listed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from gatehouse.store import StoredToolCall
from gatehouse.tool_call import ToolCallStatus

JsonDict = dict[str, Any]
SUMMARY_CHARS = 120
RESULT_CHARS = 2000
PATH_KEYS = ("path", "file_path", "filename")  # what a file tool's input names its file by


def turn_of(history: Sequence[JsonDict]) -> int | None:
    """The turn a reply belongs to: the position of the person's message it answers (the
    last user message with text; a message of tool results only is not one)."""
    for position in range(len(history) - 1, -1, -1):
        message = history[position]
        if message["role"] == "user" and _text(message["content"]):
            return position
    return None


def ui_messages(
    history: Sequence[JsonDict],
    stopped: Sequence[bool],
    calls: Sequence[StoredToolCall] = (),
) -> list[JsonDict]:
    rows = {row.id: row for row in calls}
    bubbles: list[JsonDict] = []
    for index, message in enumerate(history):
        text = _text(message["content"])
        was_stopped = index < len(stopped) and stopped[index]
        if message["role"] == "user":
            if text:  # a turn of tool results only is not something the person said
                bubbles.append({"role": "user", "text": text, "stopped": False})
            continue
        if not (bubbles and bubbles[-1]["role"] == "assistant"):
            bubbles.append({"role": "assistant", "text": "", "stopped": False})
        bubble = bubbles[-1]
        bubble["text"] += text
        bubble["stopped"] = bubble["stopped"] or was_stopped
        if cards := _tool_calls(message["content"], rows):  # absent when none: the seed's shape
            bubble["tool_calls"] = [*bubble.get("tool_calls", []), *cards]
    return bubbles


def _tool_calls(content: Any, rows: dict[str, StoredToolCall]) -> list[JsonDict]:
    if isinstance(content, str):
        return []
    cards: list[JsonDict] = []
    for block in content:
        if block.get("type") != "tool_use":
            continue
        row = rows.get(block["id"])
        if row is not None and row.status == ToolCallStatus.INVALID:
            continue
        cards.append(
            {
                "id": block["id"],
                "name": block["name"],
                "summary": _summary(block.get("input")),
                # no row: the server stopped before it was stored, so it never ran
                "status": row.status if row else ToolCallStatus.INTERRUPTED,
                "decided_by": row.decided_by if row else None,
                "result": _result_text(row),
            }
        )
    return cards


def _result_text(row: StoredToolCall | None) -> str:
    if row is None or row.result is None:
        return ""
    return _text(row.result.get("content", ""))[:RESULT_CHARS]


def _summary(tool_input: Any) -> str:
    if isinstance(tool_input, dict):
        named = cast(JsonDict, tool_input)
        for key in PATH_KEYS:
            value: object = named.get(key)
            if isinstance(value, str):
                return value[:SUMMARY_CHARS]
    return json.dumps(tool_input, ensure_ascii=False)[:SUMMARY_CHARS]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(b["text"] for b in content if b.get("type") == "text" and b.get("text"))
