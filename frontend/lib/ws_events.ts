/* eslint-disable */
/**
 * GENERATED FILE, DO NOT EDIT.
 * Made by frontend/scripts/gen-protocol.mjs from the JSON Schema of
 * backend/gatehouse/protocol.py (`python -m gatehouse.protocol`).
 * Regenerate: npm run gen:protocol -- <schema.json>
 */

/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ClientFrame".
 */
export type ClientFrame =
  UserMessage | ToolApproval | Cancel | Continue | Configure | Retry | EditMessage | SwitchBranch;
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ServerFrame".
 */
export type ServerFrame =
  | SessionCreated
  | StatusUpdate
  | AiChunk
  | AssistantMessageCompleted
  | ToolRequest
  | ToolInputDelta
  | ToolChunk
  | ToolStarted
  | ToolFinished
  | ToolDecided
  | ErrorFrame
  | History
  | AiThinking
  | ConversationSettings
  | ConversationTitled;
/**
 * Who or what gave a call its final status.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "DecidedBy".
 */
export type DecidedBy =
  "screening" | "person" | "rule" | "deadline" | "tool" | "stop" | "restart" | "server";
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolCallStatus".
 */
export type ToolCallStatus =
  | "requested"
  | "invalid"
  | "pending"
  | "approved"
  | "denied"
  | "expired"
  | "running"
  | "done"
  | "failed"
  | "interrupted";
/**
 * Every `detail.code` the server words; the UI's catalogue has each.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ErrorCode".
 */
export type ErrorCode =
  | "approval_expired"
  | "approval_timeout"
  | "attachment_too_large"
  | "attachment_type"
  | "attachments_too_large"
  | "bad_request"
  | "busy"
  | "credit_balance_too_low"
  | "edit_not_found"
  | "edit_not_unique"
  | "file_not_found"
  | "file_too_large"
  | "forbidden"
  | "internal_error"
  | "invalid_edit"
  | "invalid_json"
  | "invalid_last_seq"
  | "invalid_path"
  | "invalid_payload"
  | "invalid_rule"
  | "message_too_long"
  | "model_not_found"
  | "not_text"
  | "nothing_to_continue"
  | "nothing_to_retry"
  | "overloaded"
  | "owner_unreachable"
  | "rate_limited"
  | "read_failed"
  | "request_too_large"
  | "server_unavailable"
  | "service_unavailable"
  | "stream_error"
  | "stream_interrupted"
  | "timeout"
  | "too_many_attachments"
  | "too_many_messages"
  | "tool_error"
  | "tool_interrupted"
  | "tool_timeout"
  | "unauthorized"
  | "unknown_message"
  | "unknown_model"
  | "unknown_tool_call"
  | "write_failed";

export interface GatehouseProtocol {
  client?: ClientFrame;
  server?: ServerFrame;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "UserMessage".
 */
export interface UserMessage {
  data: UserMessageData;
  event: "user_message";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "UserMessageData".
 */
export interface UserMessageData {
  attachments?: AttachmentUpload[] | null;
  text: string;
}
/**
 * A file the person attached: its name, and its bytes as base64. `media_type` is what
 * the browser guessed; the server reads the type from the bytes and never trusts it.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AttachmentUpload".
 */
export interface AttachmentUpload {
  data: string;
  media_type?: string;
  name: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolApproval".
 */
export interface ToolApproval {
  data: ToolApprovalData;
  event: "tool_approval";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolApprovalData".
 */
export interface ToolApprovalData {
  approved: boolean;
  input?: {
    [k: string]: unknown | undefined;
  } | null;
  path_glob?: string | null;
  reason?: string | null;
  scope?: "once" | "conversation" | "always";
  tool_use_id: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Cancel".
 */
export interface Cancel {
  data?: CancelData;
  event: "cancel";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "CancelData".
 */
export interface CancelData {}
/**
 * Continue a reply that was cut at the token limit (`stop_reason: "max_tokens"`).
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Continue".
 */
export interface Continue {
  data?: ContinueData;
  event: "continue";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ContinueData".
 */
export interface ContinueData {}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Configure".
 */
export interface Configure {
  data: ConfigureData;
  event: "configure";
}
/**
 * The conversation's settings for its next replies; a field left out keeps its value.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ConfigureData".
 */
export interface ConfigureData {
  model?: string | null;
  thinking?: boolean | null;
}
/**
 * Answer the person's last message again; the reply it replaces stays, as a branch.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Retry".
 */
export interface Retry {
  data?: RetryData;
  event: "retry";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "RetryData".
 */
export interface RetryData {}
/**
 * Say a past message again, changed: a new branch from there, and a reply to it.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "EditMessage".
 */
export interface EditMessage {
  data: EditMessageData;
  event: "edit_message";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "EditMessageData".
 */
export interface EditMessageData {
  message_id: number;
  text: string;
}
/**
 * Make the branch through that message the active one (`history` follows).
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "SwitchBranch".
 */
export interface SwitchBranch {
  data: SwitchBranchData;
  event: "switch_branch";
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "SwitchBranchData".
 */
export interface SwitchBranchData {
  message_id: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "SessionCreated".
 */
export interface SessionCreated {
  data: SessionCreatedData;
  event: "session_created";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "SessionCreatedData".
 */
export interface SessionCreatedData {
  locale?: ("pt-BR" | "en") | null;
  resumed: boolean;
  session_id: string;
  settings?: ConversationSettingsData | null;
}
/**
 * The model and thinking the conversation's next reply uses.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ConversationSettingsData".
 */
export interface ConversationSettingsData {
  model: string;
  thinking: boolean;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "StatusUpdate".
 */
export interface StatusUpdate {
  data: StatusUpdateData;
  event: "status_update";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "StatusUpdateData".
 */
export interface StatusUpdateData {
  ai_typing?: boolean | null;
  busy?: boolean | null;
  error?: boolean | null;
  file_path?: string | null;
  reconnecting?: boolean | null;
  tool_running?: boolean | null;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AiChunk".
 */
export interface AiChunk {
  data: AiChunkData;
  event: "ai_chunk";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AiChunkData".
 */
export interface AiChunkData {
  text: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AssistantMessageCompleted".
 */
export interface AssistantMessageCompleted {
  data: AssistantMessageCompletedData;
  event: "assistant_message_completed";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AssistantMessageCompletedData".
 */
export interface AssistantMessageCompletedData {
  ids?: ReplyIds | null;
  reason: "ok" | "error" | "cancelled";
  stop_reason?: ("max_tokens" | "refusal") | null;
  usage?: MessageUsage | null;
}
/**
 * The ids of the person's message a reply answered and of the reply (its first
 * message; absent when nothing of it was kept), and the reply's place among its retries.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ReplyIds".
 */
export interface ReplyIds {
  branch?: Branch | null;
  message_id?: number | null;
  reply_id?: number | null;
}
/**
 * Where a message sits among its alternatives (edits of a person's message, retries of
 * a reply): `index` (0-based) of `count`; `siblings` are their ids, in order.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Branch".
 */
export interface Branch {
  count: number;
  index: number;
  siblings: number[];
}
/**
 * A reply's tokens, all its requests together, and their cost in USD (absent: unknown,
 * a model without a price).
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "MessageUsage".
 */
export interface MessageUsage {
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd?: number | null;
  input_tokens: number;
  model?: string | null;
  output_tokens: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolRequest".
 */
export interface ToolRequest {
  data: ToolRequestData;
  event: "tool_request";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolRequestData".
 */
export interface ToolRequestData {
  annotations?: ToolAnnotations | null;
  id: string;
  input: {
    [k: string]: unknown | undefined;
  };
  name: string;
  preview?: FilePreview | null;
  proposed_glob?: string | null;
  server: string;
}
/**
 * What the tool's MCP server says about it (MCP `ToolAnnotations`: readOnlyHint, …).
 *
 * Hints a server declares, shown to the person as badges; never used to decide anything.
 * A hint the server did not declare (or sent as something other than a boolean) is absent.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolAnnotations".
 */
export interface ToolAnnotations {
  destructive_hint?: boolean | null;
  idempotent_hint?: boolean | null;
  open_world_hint?: boolean | null;
  read_only_hint?: boolean | null;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "FilePreview".
 */
export interface FilePreview {
  bytes: number;
  diff?: FileDiff | null;
  overwrite: boolean;
  path: string;
  problem?: string | null;
  valid_path: boolean;
}
/**
 * What a write would change in a file: every line added for a new file. `added` and
 * `removed` count the whole change even when the hunks were cut (`truncated`); `skipped`
 * says why there is no diff (a file too large to compare, or one that is not text).
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "FileDiff".
 */
export interface FileDiff {
  added: number;
  hunks: DiffHunk[];
  removed: number;
  skipped?: ("too_large" | "binary") | null;
  truncated: boolean;
}
/**
 * One hunk of a unified diff; each line starts with " " (context), "+" or "-".
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "DiffHunk".
 */
export interface DiffHunk {
  lines: string[];
  new_lines: number;
  new_start: number;
  old_lines: number;
  old_start: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolInputDelta".
 */
export interface ToolInputDelta {
  data: ToolInputDeltaData;
  event: "tool_input_delta";
  seq: number;
}
/**
 * The input of a call Claude is still writing, as it grows (throttled, bounded).
 *
 * `partial` holds the input's top-level fields that changed since this call's previous
 * frame: a field named in `appended` continues the text it had (append it), any other
 * replaces its value. `truncated` ends the draft early (its size limit); the whole input
 * comes with `tool_request`, and only a call that passes the checks gets one.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolInputDeltaData".
 */
export interface ToolInputDeltaData {
  appended?: string[] | null;
  name: string;
  partial: {
    [k: string]: unknown | undefined;
  };
  tool_use_id: string;
  truncated?: boolean | null;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolChunk".
 */
export interface ToolChunk {
  data: ToolChunkData;
  event: "tool_chunk";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolChunkData".
 */
export interface ToolChunkData {
  chunk: string;
  tool_use_id: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolStarted".
 */
export interface ToolStarted {
  data: ToolStartedData;
  event: "tool_started";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolStartedData".
 */
export interface ToolStartedData {
  name: string;
  tool_use_id: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolFinished".
 */
export interface ToolFinished {
  data: ToolFinishedData;
  event: "tool_finished";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolFinishedData".
 */
export interface ToolFinishedData {
  code?: string | null;
  decided_by?: DecidedBy | null;
  rule_id?: string | null;
  status: ToolCallStatus;
  tool_use_id: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolDecided".
 */
export interface ToolDecided {
  data: ToolDecidedData;
  event: "tool_decided";
  seq: number;
}
/**
 * A call decided by a rule, without asking (or while its dialog was open).
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ToolDecidedData".
 */
export interface ToolDecidedData {
  decision: "allowed" | "denied";
  input: {
    [k: string]: unknown | undefined;
  };
  name: string;
  rule_id: string;
  rule_label: string;
  rule_source: "dialog" | "settings" | "policy_file";
  server: string;
  tool_use_id: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "Error".
 */
export interface ErrorFrame {
  data: ErrorData;
  event: "error";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ErrorData".
 */
export interface ErrorData {
  detail?: ErrorDetail | null;
  message: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ErrorDetail".
 */
export interface ErrorDetail {
  code: string;
  errors?: string[] | null;
  request_id?: string | null;
  status?: number | null;
  tool_use_id?: string | null;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "History".
 */
export interface History {
  data: HistoryData;
  event: "history";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "HistoryData".
 */
export interface HistoryData {
  messages: HistoryMessage[];
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "HistoryMessage".
 */
export interface HistoryMessage {
  attachments?: HistoryAttachment[] | null;
  branch?: Branch | null;
  id?: number | null;
  role: "user" | "assistant";
  stop_reason?: ("max_tokens" | "refusal") | null;
  stopped: boolean;
  text: string;
  thinking?: string | null;
  tool_calls?: HistoryToolCall[] | null;
  usage?: MessageUsage | null;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "HistoryAttachment".
 */
export interface HistoryAttachment {
  bytes: number;
  media_type: string;
  name: string;
  url: string;
}
/**
 * A past call, drawn as its card after a reload: what ran, who decided, what came back.
 *
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "HistoryToolCall".
 */
export interface HistoryToolCall {
  decided_by?: DecidedBy | null;
  id: string;
  name: string;
  result?: string;
  rule_id?: string | null;
  rule_label?: string | null;
  rule_source?: ("dialog" | "settings" | "policy_file") | null;
  status: ToolCallStatus;
  summary: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AiThinking".
 */
export interface AiThinking {
  data: AiThinkingData;
  event: "ai_thinking";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "AiThinkingData".
 */
export interface AiThinkingData {
  text: string;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ConversationSettings".
 */
export interface ConversationSettings {
  data: ConversationSettingsData;
  event: "conversation_settings";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ConversationTitled".
 */
export interface ConversationTitled {
  data: ConversationTitledData;
  event: "conversation_titled";
  seq: number;
}
/**
 * This interface was referenced by `GatehouseProtocol`'s JSON-Schema
 * via the `definition` "ConversationTitledData".
 */
export interface ConversationTitledData {
  title: string;
}
