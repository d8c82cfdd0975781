"""A conversation out of Gatehouse (JSON, Markdown) and back in (JSON).

The JSON export is the stored conversation's active branch (the one shown and sent to Claude;
other branches of a retry or an edit stay behind): messages as Claude's content blocks (so an
import replays to Claude exactly), and every tool call they made with its status, who decided
it and the tool_result Claude got. An import is validated and bounded, and only settled calls
come in: an imported file can never open an approval or run a tool. Export → import → export
gives the same document apart from the conversation's times.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from gatehouse.store import StoredConversation, StoredToolCall
from gatehouse.tool_call import FINAL, DecidedBy, ToolCallStatus

JsonDict = dict[str, Any]
FORMAT = "gatehouse.conversation"
MAX_MESSAGES = 5_000
MAX_BLOCKS = 1_000  # per message
MAX_CALLS = 5_000


class ExportedBlock(BaseModel):
    """One content block as Claude wrote it; only its `type` is required here."""

    model_config = ConfigDict(extra="allow")
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ExportedMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: Annotated[list[ExportedBlock], Field(max_length=MAX_BLOCKS)]
    stopped: bool = False


class ExportedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    position: Annotated[int, Field(ge=0)]  # the assistant message that made it
    status: ToolCallStatus
    decided_by: DecidedBy | None = None
    result: JsonDict | None = None

    @model_validator(mode="after")
    def _settled(self) -> ExportedToolCall:
        if self.status not in FINAL:
            raise ValueError(f"a tool call must be settled, not {self.status}")
        return self


class ExportedConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["gatehouse.conversation"]
    version: Literal[1]
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    pinned: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    messages: Annotated[list[ExportedMessage], Field(min_length=1, max_length=MAX_MESSAGES)]
    tool_calls: Annotated[list[ExportedToolCall], Field(max_length=MAX_CALLS)] = []

    @model_validator(mode="after")
    def _a_conversation_claude_accepts(self) -> ExportedConversation:
        for index, message in enumerate(self.messages):
            expected = "user" if index % 2 == 0 else "assistant"
            if message.role != expected:
                raise ValueError(f"messages[{index}] must be a {expected} message")
        ids = [call.id for call in self.tool_calls]
        if len(ids) != len(set(ids)):
            raise ValueError("tool call ids must be unique")
        if any(call.position >= len(self.messages) for call in self.tool_calls):
            raise ValueError("a tool call's position must name one of the messages")
        return self

    def history(self) -> list[JsonDict]:
        return [{"role": m.role, "content": _blocks(m.content)} for m in self.messages]

    def calls(self) -> list[StoredToolCall]:
        return [
            StoredToolCall(c.id, c.position, c.name, c.status, None, c.result, None, c.decided_by)
            for c in self.tool_calls
        ]


def to_json(stored: StoredConversation) -> JsonDict:
    """The active branch (its messages and the calls they made); other branches stay home."""
    used = {
        block.get("id")
        for message in stored.history
        for block in _content(message["content"])
        if block.get("type") == "tool_use"
    }
    return {
        "format": FORMAT,
        "version": 1,
        "title": stored.title,
        "pinned": stored.pinned,
        "created_at": _iso(stored.created_at),
        "updated_at": _iso(stored.updated_at),
        "messages": [
            {"role": m["role"], "content": _content(m["content"]), "stopped": stopped}
            for m, stopped in zip(stored.history, stored.stopped, strict=True)
        ],
        "tool_calls": [
            {
                "id": call.id,
                "name": call.name,
                "position": call.position,
                "status": call.status.value,
                "decided_by": call.decided_by.value if call.decided_by else None,
                "result": call.result,
            }
            for call in stored.tool_calls
            if call.id in used
        ],
    }


def to_markdown(stored: StoredConversation, speakers: tuple[str, str]) -> str:
    """The conversation for people: who said what, and each tool call with its outcome."""
    calls = {call.id: call for call in stored.tool_calls}
    you, claude = speakers
    lines = [f"# {stored.title or 'Gatehouse'}", ""]
    for message in stored.history:
        parts = [_markdown_block(block, calls) for block in _content(message["content"])]
        parts = [part for part in parts if part]
        if parts:
            lines += [f"## {you if message['role'] == 'user' else claude}", "", *parts]
    return "\n".join(lines).rstrip() + "\n"


def _markdown_block(block: JsonDict, calls: dict[str, StoredToolCall]) -> str:
    if block.get("type") == "text":
        return str(block.get("text", "")).strip() + "\n"
    if block.get("type") != "tool_use":
        return ""  # tool results are shown under their call; thinking is not for export
    call = calls.get(str(block.get("id")))
    status = call.status.value if call else ToolCallStatus.INTERRUPTED.value
    decided = f", {call.decided_by.value}" if call and call.decided_by else ""
    tool_input = json.dumps(block.get("input"), ensure_ascii=False, indent=2)
    parts = [f"**Tool** `{block.get('name')}` — {status}{decided}", "", _fenced(tool_input, "json")]
    result = _result_text(call.result if call else None)
    if result:
        parts += ["", _fenced(result, "")]
    return "\n".join(parts) + "\n"


def _result_text(result: JsonDict | None) -> str:
    if not result:
        return ""
    content = result.get("content", "")
    if isinstance(content, str):
        return content
    blocks: list[JsonDict] = content
    return "\n".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")


def _fenced(text: str, language: str) -> str:
    """A code fence longer than any run of backticks inside, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _content(content: Any) -> list[JsonDict]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _blocks(blocks: list[ExportedBlock]) -> list[JsonDict]:
    return [block.model_dump(mode="json") for block in blocks]


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()
