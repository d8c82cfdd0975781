"""One named converter between message layers: stored Anthropic messages → UI history.

The UI shows one bubble per person's message and one per reply; a reply that went through
tool calls spans several assistant messages in Claude's history and becomes one bubble here.
Each bubble lists the calls its reply made, with their stored status, so a reload redraws
their cards; a call screened out (`invalid`) was never shown, so it is not listed. A reply cut
at the token limit or declined keeps that mark; a message Gatehouse wrote for Claude (asking it
to go on with a cut reply) is not shown, so the continuation joins the cut reply's bubble. A
reply's thinking (its `thinking` blocks' text) comes with it, so a reload shows its block.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from gatehouse import protocol
from gatehouse.attachments import FILE_BLOCKS
from gatehouse.branches import Tree
from gatehouse.store import StoredToolCall
from gatehouse.tool_call import ToolCallStatus
from gatehouse.usage import Usage, total

JsonDict = dict[str, Any]
SUMMARY_CHARS = 120
RESULT_CHARS = 2000
CUT_SHORT = frozenset({"max_tokens", "refusal"})  # the stop reasons the person is shown
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
    usage: Sequence[Usage | None] = (),
    attachments: Sequence[Sequence[JsonDict]] = (),
    conversation_id: str = "",
    stop_reasons: Sequence[str | None] = (),
    hidden: Sequence[bool] = (),
    rules: Mapping[str, Mapping[str, str | None]] | None = None,
    positions: Sequence[int] = (),
    tree: Tree | None = None,
) -> list[JsonDict]:
    """The history as the UI draws it; `rules`: the rule that decided a call, by its id. Each
    bubble has the `id` of its first message (its stored position) and, where it has siblings
    (an edited message, a retried reply), its `branch`."""
    rows = {row.id: row for row in calls}
    deciding: Mapping[str, Mapping[str, str | None]] = rules or {}
    bubbles: list[JsonDict] = []
    spent: list[Usage | None] = []  # the usages of the last assistant bubble's messages
    for index, message in enumerate(history):
        if index < len(hidden) and hidden[index]:
            continue  # written for Claude: what follows joins the reply before it
        text = _text(message["content"])
        was_stopped = index < len(stopped) and stopped[index]
        position = positions[index] if index < len(positions) else index
        if message["role"] == "user":
            files = _attachments(conversation_id, index, position, attachments, message["content"])
            if text or files:  # a turn of tool results only is not something the person said
                bubble: JsonDict = {"role": "user", "text": text, "stopped": False}
                if files:
                    bubble["attachments"] = files
                bubbles.append(_placed(bubble, position, tree))
            continue
        if not (bubbles and bubbles[-1]["role"] == "assistant"):
            bubbles.append(
                _placed({"role": "assistant", "text": "", "stopped": False}, position, tree)
            )
            spent = []
        bubble = bubbles[-1]
        bubble["text"] += text
        if thinking := _thinking(message["content"]):  # absent when none: the seed's shape
            bubble["thinking"] = "\n\n".join(filter(None, [bubble.get("thinking"), thinking]))
        bubble["stopped"] = bubble["stopped"] or was_stopped
        # the reply ends as its last message did: cut or declined, or neither once continued
        stop_reason = stop_reasons[index] if index < len(stop_reasons) else None
        if stop_reason in CUT_SHORT:
            bubble["stop_reason"] = stop_reason
        else:
            bubble.pop("stop_reason", None)
        # absent when none: the seed's shape
        if cards := _tool_calls(message["content"], rows, deciding):
            bubble["tool_calls"] = [*bubble.get("tool_calls", []), *cards]
        spent.append(usage[index] if index < len(usage) else None)
        if frame := usage_frame(total(spent)):
            bubble["usage"] = frame.model_dump(exclude_none=True)
    return bubbles


def _placed(bubble: JsonDict, position: int, tree: Tree | None) -> JsonDict:
    bubble["id"] = position
    point = tree.branch_point(position) if tree is not None and position in tree.parents else None
    if point is not None:
        siblings = point.siblings
        bubble["branch"] = {"index": point.index, "count": len(siblings), "siblings": siblings}
    return bubble


def usage_frame(usage: Usage | None) -> protocol.MessageUsage | None:
    if usage is None:
        return None
    return protocol.MessageUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_input_tokens=usage.cache_read_input_tokens,
        cache_creation_input_tokens=usage.cache_creation_input_tokens,
        cost_usd=None if usage.cost_usd is None else float(usage.cost_usd),
        model=usage.model,
    )


def attachment_url(conversation_id: str, position: int, index: int) -> str:
    return f"/api/conversations/{conversation_id}/messages/{position}/attachments/{index}"


def _attachments(
    conversation_id: str,
    index: int,
    position: int,
    names: Sequence[Sequence[JsonDict]],
    content: Any,
) -> list[JsonDict]:
    """A person's message's files, as named when they came (or by their type, if unnamed)."""
    if isinstance(content, str):
        return []
    named: Sequence[JsonDict] = names[index] if index < len(names) else ()
    files: list[JsonDict] = []
    for n, block in enumerate(b for b in content if b.get("type") in FILE_BLOCKS):
        source: JsonDict = block.get("source") or {}
        about: JsonDict = dict(named[n]) if n < len(named) else {}
        media_type = str(about.get("media_type") or source.get("media_type") or "")
        files.append(
            {
                "name": str(about.get("name") or block["type"]),
                "media_type": media_type,
                "bytes": int(about.get("bytes") or 0),
                "url": attachment_url(conversation_id, position, n),
            }
        )
    return files


def _tool_calls(
    content: Any, rows: dict[str, StoredToolCall], rules: Mapping[str, Mapping[str, str | None]]
) -> list[JsonDict]:
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
                **rules.get(block["id"], {}),
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


def _thinking(content: Any) -> str:
    if isinstance(content, str):
        return ""
    return "\n\n".join(
        b["thinking"] for b in content if b.get("type") == "thinking" and b.get("thinking")
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(b["text"] for b in content if b.get("type") == "text" and b.get("text"))
