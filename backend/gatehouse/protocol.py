"""The WebSocket protocol: every frame either side may send, as pydantic models.

Frames are JSON text `{"event": <name>, "data": {...}}` (the envelope of the seed's NestJS ws
adapter). Server frames also carry `seq`, rising by one within a conversation. The client frames
form one discriminated union on `event`, the server frames another; the frontend's TypeScript
types are generated from `json_schema()` (see `make protocol`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from gatehouse.settings import Locale
from gatehouse.tool_call import DecidedBy, ToolCallStatus


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ClientFrame(BaseModel):
    # strict: "approved": "yes" is a bad frame, not True
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


MAX_REASON_CHARS = 1000

# ── client → server ──────────────────────────────────────────────────────────────────────────


class UserMessageData(_ClientFrame):
    text: Annotated[str, Field(min_length=1)]


class UserMessage(_ClientFrame):
    event: Literal["user_message"]
    data: UserMessageData


class ToolApprovalData(_ClientFrame):
    tool_use_id: Annotated[str, Field(min_length=1, max_length=200)]
    approved: bool
    # once: this call only; conversation / always: also a rule for this server + tool (allow
    # when approved, deny when not), in this conversation or everywhere.
    scope: Literal["once", "conversation", "always"] = "once"
    # The rule's path glob on the tool's path field (the dialog proposes `proposed_glob`).
    path_glob: Annotated[str | None, Field(min_length=1, max_length=256)] = None
    # Deny only: told to Claude in the tool_result.
    reason: Annotated[str | None, Field(max_length=MAX_REASON_CHARS)] = None
    # Approve only: the input to run instead of Claude's, checked as Claude's is.
    input: dict[str, Any] | None = None


class ToolApproval(_ClientFrame):
    event: Literal["tool_approval"]
    data: ToolApprovalData


class CancelData(_ClientFrame):
    pass


class Cancel(_ClientFrame):
    event: Literal["cancel"]
    data: CancelData = CancelData()


class ContinueData(_ClientFrame):
    pass


class Continue(_ClientFrame):
    """Continue a reply that was cut at the token limit (`stop_reason: "max_tokens"`)."""

    event: Literal["continue"]
    data: ContinueData = ContinueData()


ClientFrame = Annotated[
    UserMessage | ToolApproval | Cancel | Continue, Field(discriminator="event")
]
CLIENT_FRAME = TypeAdapter[ClientFrame](ClientFrame)


# ── server → client ──────────────────────────────────────────────────────────────────────────


class SessionCreatedData(_Frame):
    session_id: str
    resumed: bool = False
    # The language of this socket's messages: what the client asked for, else DEFAULT_LOCALE,
    # so a UI that was told no language can show the server's.
    locale: Locale | None = None


class StatusUpdateData(_Frame):
    ai_typing: bool | None = None
    tool_running: bool | None = None
    file_path: str | None = None
    busy: bool | None = None
    reconnecting: bool | None = None
    error: bool | None = None


class AiChunkData(_Frame):
    text: str


class AssistantMessageCompletedData(_Frame):
    reason: Literal["ok", "error", "cancelled"] = "ok"
    # Why Claude ended an "ok" reply, when the person should know: cut at the token limit
    # (a `continue` frame continues it), or declined. Absent for an ordinary end.
    stop_reason: Literal["max_tokens", "refusal"] | None = None


class FilePreview(_Frame):
    path: str
    bytes: int
    overwrite: bool
    valid_path: bool
    problem: str | None = None


class ToolRequestData(_Frame):
    id: str
    name: str
    input: dict[str, Any]
    server: str
    preview: FilePreview | None = None
    # The folder of the file the call names, as a glob for a scoped rule (`notes/**`).
    proposed_glob: str | None = None


class ToolChunkData(_Frame):
    chunk: str
    tool_use_id: str


class ErrorDetail(_Frame):
    code: str
    status: int | None = None
    request_id: str | None = None
    errors: list[str] | None = None
    tool_use_id: str | None = None


class ErrorData(_Frame):
    message: str
    detail: ErrorDetail | None = None


class ToolStartedData(_Frame):
    tool_use_id: str
    name: str


class ToolFinishedData(_Frame):
    tool_use_id: str
    status: ToolCallStatus
    decided_by: DecidedBy | None = None
    code: str | None = None  # the error code of a call that did not end `done`
    rule_id: str | None = None  # the rule that decided it, when one did


class ToolDecidedData(_Frame):
    """A call decided by a rule, without asking (or while its dialog was open)."""

    tool_use_id: str
    name: str
    server: str
    input: dict[str, Any]
    decision: Literal["allowed", "denied"]
    rule_id: str
    rule_label: str  # `notes/**`, or `server:tool`
    rule_source: Literal["dialog", "settings", "policy_file"]


class HistoryToolCall(_Frame):
    """A past call, drawn as its card after a reload: what ran, who decided, what came back."""

    id: str
    name: str
    summary: str  # the path it touched, else a short form of its input
    status: ToolCallStatus
    decided_by: DecidedBy | None = None
    result: str = ""  # the start of the result's text


class HistoryMessage(_Frame):
    role: Literal["user", "assistant"]
    text: str
    stopped: bool = False
    tool_calls: list[HistoryToolCall] | None = None  # absent when the reply made no call


class HistoryData(_Frame):
    messages: list[HistoryMessage]


class SessionCreated(_Frame):
    event: Literal["session_created"] = "session_created"
    data: SessionCreatedData
    seq: int = 0


class StatusUpdate(_Frame):
    event: Literal["status_update"] = "status_update"
    data: StatusUpdateData
    seq: int = 0


class AiChunk(_Frame):
    event: Literal["ai_chunk"] = "ai_chunk"
    data: AiChunkData
    seq: int = 0


class AssistantMessageCompleted(_Frame):
    event: Literal["assistant_message_completed"] = "assistant_message_completed"
    data: AssistantMessageCompletedData
    seq: int = 0


class ToolRequest(_Frame):
    event: Literal["tool_request"] = "tool_request"
    data: ToolRequestData
    seq: int = 0


class ToolChunk(_Frame):
    event: Literal["tool_chunk"] = "tool_chunk"
    data: ToolChunkData
    seq: int = 0


class ToolStarted(_Frame):
    event: Literal["tool_started"] = "tool_started"
    data: ToolStartedData
    seq: int = 0


class ToolFinished(_Frame):
    event: Literal["tool_finished"] = "tool_finished"
    data: ToolFinishedData
    seq: int = 0


class ToolDecided(_Frame):
    event: Literal["tool_decided"] = "tool_decided"
    data: ToolDecidedData
    seq: int = 0


class Error(_Frame):
    event: Literal["error"] = "error"
    data: ErrorData
    seq: int = 0


class History(_Frame):
    event: Literal["history"] = "history"
    data: HistoryData
    seq: int = 0


ServerFrame = Annotated[
    SessionCreated
    | StatusUpdate
    | AiChunk
    | AssistantMessageCompleted
    | ToolRequest
    | ToolChunk
    | ToolStarted
    | ToolFinished
    | ToolDecided
    | Error
    | History,
    Field(discriminator="event"),
]
SERVER_FRAME = TypeAdapter[ServerFrame](ServerFrame)


# ── helpers ──────────────────────────────────────────────────────────────────────────────────


class FrameRejected(Exception):
    """A client frame that is not JSON (`invalid_json`) or not a valid event (`invalid_payload`)."""

    def __init__(self, reason: Literal["invalid_json", "invalid_payload"], errors: list[str]):
        super().__init__(reason)
        self.reason: Literal["invalid_json", "invalid_payload"] = reason
        self.errors = errors


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """Validate one inbound frame; raise FrameRejected with short, path-named problems."""
    try:
        return CLIENT_FRAME.validate_json(raw)
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_input=False, include_context=False)
        if any(d["type"] == "json_invalid" for d in details):
            raise FrameRejected("invalid_json", ["frame is not valid JSON"]) from None
        problems = [f"{'.'.join(str(p) for p in d['loc']) or 'frame'}: {d['msg']}" for d in details]
        raise FrameRejected("invalid_payload", problems[:5]) from None


def encode(frame: BaseModel) -> str:
    """Serialize a server frame, leaving out unset optional fields."""
    return frame.model_dump_json(exclude_none=True)


def encode_numbered(frame: ServerFrame, seq: int) -> str:
    """`encode(frame)` with `seq` set, without copying the model (this runs once per chunk)."""
    data = frame.data.model_dump_json(exclude_none=True)
    return f'{{"event":"{frame.event}","data":{data},"seq":{seq}}}'


def encode_ai_chunk(text: str, seq: int) -> str:
    """The `ai_chunk` frame, the one sent per text delta, written without building a model:
    the same text as `encode_numbered(AiChunk(...), seq)` (a test holds them equal)."""
    body = orjson.dumps(text).decode()
    return '{"event":"ai_chunk","data":{"text":' + body + '},"seq":' + str(seq) + "}"


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with both unions, for generating the frontend's types."""
    client = CLIENT_FRAME.json_schema(ref_template="#/$defs/{model}")
    server = SERVER_FRAME.json_schema(ref_template="#/$defs/{model}", mode="serialization")
    defs: dict[str, Any] = {**client.pop("$defs", {}), **server.pop("$defs", {})}
    defs["ClientFrame"] = client
    defs["ServerFrame"] = server
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "GatehouseProtocol",
        "$defs": defs,
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, sort_keys=True))  # noqa: T201
