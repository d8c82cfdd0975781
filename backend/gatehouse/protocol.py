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
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from gatehouse.i18n import ERROR_CODES
from gatehouse.settings import Locale
from gatehouse.tool_call import DecidedBy, ToolCallStatus


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ClientFrame(BaseModel):
    # strict: "approved": "yes" is a bad frame, not True
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


MAX_REASON_CHARS = 1000

# ── client → server ──────────────────────────────────────────────────────────────────────────


class AttachmentUpload(_ClientFrame):
    """A file the person attached: its name, and its bytes as base64. `media_type` is what
    the browser guessed; the server reads the type from the bytes and never trusts it."""

    name: Annotated[str, Field(min_length=1, max_length=255)]
    media_type: Annotated[str, Field(max_length=100)] = ""
    data: Annotated[str, Field(min_length=1)]


class UserMessageData(_ClientFrame):
    text: str  # may be empty only when there are attachments
    attachments: list[AttachmentUpload] | None = None

    @model_validator(mode="after")
    def _says_something(self) -> UserMessageData:
        if not self.text and not self.attachments:
            raise ValueError("text must not be empty without attachments")
        return self


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


class RetryData(_ClientFrame):
    pass


class Retry(_ClientFrame):
    """Answer the person's last message again; the reply it replaces stays, as a branch."""

    event: Literal["retry"]
    data: RetryData = RetryData()


# A message's id: its position in the conversation (`id` in `history`).
MessageId = Annotated[int, Field(ge=0, le=2**63 - 1)]


class EditMessageData(_ClientFrame):
    message_id: MessageId  # one of the person's messages on the active branch
    text: Annotated[str, Field(min_length=1)]  # bounded by MAX_MESSAGE_CHARS, as a message


class EditMessage(_ClientFrame):
    """Say a past message again, changed: a new branch from there, and a reply to it."""

    event: Literal["edit_message"]
    data: EditMessageData


class SwitchBranchData(_ClientFrame):
    message_id: MessageId  # a message of the conversation, on any branch


class SwitchBranch(_ClientFrame):
    """Make the branch through that message the active one (`history` follows)."""

    event: Literal["switch_branch"]
    data: SwitchBranchData


MODEL_ID_CHARS = 200


class ConfigureData(_ClientFrame):
    """The conversation's settings for its next replies; a field left out keeps its value."""

    model: Annotated[str, Field(min_length=1, max_length=MODEL_ID_CHARS)] | None = None
    thinking: bool | None = None


class Configure(_ClientFrame):
    event: Literal["configure"]
    data: ConfigureData


ClientFrame = Annotated[
    UserMessage | ToolApproval | Cancel | Continue | Configure | Retry | EditMessage | SwitchBranch,
    Field(discriminator="event"),
]
CLIENT_FRAME = TypeAdapter[ClientFrame](ClientFrame)


# ── server → client ──────────────────────────────────────────────────────────────────────────


class ConversationSettingsData(_Frame):
    """The model and thinking the conversation's next reply uses."""

    model: str
    thinking: bool


class SessionCreatedData(_Frame):
    session_id: str
    resumed: bool = False
    # The language of this socket's messages: what the client asked for, else DEFAULT_LOCALE,
    # so a UI that was told no language can show the server's.
    locale: Locale | None = None
    settings: ConversationSettingsData | None = None


class StatusUpdateData(_Frame):
    ai_typing: bool | None = None
    tool_running: bool | None = None
    file_path: str | None = None
    busy: bool | None = None
    reconnecting: bool | None = None
    error: bool | None = None


class AiChunkData(_Frame):
    text: str


class MessageUsage(_Frame):
    """A reply's tokens, all its requests together, and their cost in USD (absent: unknown,
    a model without a price)."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    cost_usd: float | None = None
    model: str | None = None


class AiThinkingData(_Frame):
    text: str  # a piece of Claude's (summarized) thinking, before its answer


class Branch(_Frame):
    """Where a message sits among its alternatives (edits of a person's message, retries of
    a reply): `index` (0-based) of `count`; `siblings` are their ids, in order."""

    index: int
    count: int
    siblings: list[int]


class ReplyIds(_Frame):
    """The ids of the person's message a reply answered and of the reply (its first
    message; absent when nothing of it was kept), and the reply's place among its retries."""

    message_id: int | None = None
    reply_id: int | None = None
    branch: Branch | None = None


class AssistantMessageCompletedData(_Frame):
    reason: Literal["ok", "error", "cancelled"] = "ok"
    # Why Claude ended an "ok" reply, when the person should know: cut at the token limit
    # (a `continue` frame continues it), or declined. Absent for an ordinary end.
    stop_reason: Literal["max_tokens", "refusal"] | None = None
    usage: MessageUsage | None = None  # the reply so far; absent when Claude reported none
    ids: ReplyIds | None = None  # for editing, retrying and switching without a reload


class DiffHunk(_Frame):
    """One hunk of a unified diff; each line starts with " " (context), "+" or "-"."""

    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: list[str]


class FileDiff(_Frame):
    """What a write would change in a file: every line added for a new file. `added` and
    `removed` count the whole change even when the hunks were cut (`truncated`); `skipped`
    says why there is no diff (a file too large to compare, or one that is not text)."""

    added: int
    removed: int
    hunks: list[DiffHunk]
    truncated: bool = False
    skipped: Literal["too_large", "binary"] | None = None


class FilePreview(_Frame):
    path: str
    bytes: int
    overwrite: bool
    valid_path: bool
    problem: str | None = None
    diff: FileDiff | None = None  # create_file and edit_file: against the file on disk now


class ToolAnnotations(_Frame):
    """What the tool's MCP server says about it (MCP `ToolAnnotations`: readOnlyHint, …).

    Hints a server declares, shown to the person as badges; never used to decide anything.
    A hint the server did not declare (or sent as something other than a boolean) is absent.
    """

    read_only_hint: bool | None = None
    destructive_hint: bool | None = None
    idempotent_hint: bool | None = None
    open_world_hint: bool | None = None


class ToolRequestData(_Frame):
    id: str
    name: str
    input: dict[str, Any]
    server: str
    preview: FilePreview | None = None
    annotations: ToolAnnotations | None = None  # absent when the server declares no hint
    # The folder of the file the call names, as a glob for a scoped rule (`notes/**`).
    proposed_glob: str | None = None


class ToolInputDeltaData(_Frame):
    """The input of a call Claude is still writing, as it grows (throttled, bounded).

    `partial` holds the input's top-level fields that changed since this call's previous
    frame: a field named in `appended` continues the text it had (append it), any other
    replaces its value. `truncated` ends the draft early (its size limit); the whole input
    comes with `tool_request`, and only a call that passes the checks gets one."""

    tool_use_id: str
    name: str
    partial: dict[str, Any]
    appended: list[str] | None = None
    truncated: bool | None = None


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


class ConversationTitledData(_Frame):
    title: str  # Claude's short title, given after the first reply


class HistoryToolCall(_Frame):
    """A past call, drawn as its card after a reload: what ran, who decided, what came back."""

    id: str
    name: str
    summary: str  # the path it touched, else a short form of its input
    status: ToolCallStatus
    decided_by: DecidedBy | None = None
    result: str = ""  # the start of the result's text
    # decided by a rule: which (label and source only while the rule is still in force)
    rule_id: str | None = None
    rule_label: str | None = None
    rule_source: Literal["dialog", "settings", "policy_file"] | None = None


class HistoryAttachment(_Frame):
    name: str
    media_type: str
    bytes: int
    url: str  # GET it (with the token, when one is set) for the file itself


class HistoryMessage(_Frame):
    role: Literal["user", "assistant"]
    # The id of its (first) stored message: what `edit_message` and `switch_branch` name.
    id: int | None = None
    branch: Branch | None = None  # absent when it has no alternatives
    text: str
    stopped: bool = False
    # a reply cut at the token limit (the last one can be continued) or declined
    stop_reason: Literal["max_tokens", "refusal"] | None = None
    tool_calls: list[HistoryToolCall] | None = None  # absent when the reply made no call
    usage: MessageUsage | None = None  # a reply's, when known
    attachments: list[HistoryAttachment] | None = None  # a person's message's files
    thinking: str | None = None  # the reply's thinking, absent when it had none


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


class AiThinking(_Frame):
    event: Literal["ai_thinking"] = "ai_thinking"
    data: AiThinkingData
    seq: int = 0


class ConversationSettings(_Frame):
    event: Literal["conversation_settings"] = "conversation_settings"
    data: ConversationSettingsData
    seq: int = 0


class AssistantMessageCompleted(_Frame):
    event: Literal["assistant_message_completed"] = "assistant_message_completed"
    data: AssistantMessageCompletedData
    seq: int = 0


class ToolRequest(_Frame):
    event: Literal["tool_request"] = "tool_request"
    data: ToolRequestData
    seq: int = 0


class ToolInputDelta(_Frame):
    event: Literal["tool_input_delta"] = "tool_input_delta"
    data: ToolInputDeltaData
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


class ConversationTitled(_Frame):
    event: Literal["conversation_titled"] = "conversation_titled"
    data: ConversationTitledData
    seq: int = 0


ServerFrame = Annotated[
    SessionCreated
    | StatusUpdate
    | AiChunk
    | AssistantMessageCompleted
    | ToolRequest
    | ToolInputDelta
    | ToolChunk
    | ToolStarted
    | ToolFinished
    | ToolDecided
    | Error
    | History
    | AiThinking
    | ConversationSettings
    | ConversationTitled,
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
    defs["ErrorCode"] = {
        "type": "string",
        "enum": list(ERROR_CODES),
        "description": "Every `detail.code` the server words; the UI's catalogue has each.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "GatehouseProtocol",
        "$defs": defs,
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, sort_keys=True))  # noqa: T201
