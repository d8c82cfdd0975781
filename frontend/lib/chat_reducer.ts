// A pure reducer: server frames and the client's own actions → the next ChatState.
// Unchanged parts keep their identity (finished messages, other tool calls), so React can skip
// them while one reply streams.
import { utf8Length } from "./format";
import { assertNever, type FrameOf, type ServerFrame } from "./protocol";
import type { ChatAttachment } from "./attachments";
import type { HistoryAttachment, HistoryToolCall, MessageUsage, ReplyIds, ToolCallStatus } from "./ws_events";
import type {
  AssistantChatMessage,
  AssistantPart,
  ChatMessage,
  ChatState,
  ChatStatus,
  CompletionReason,
  ConnectionState,
  CutShort,
  DecidingRule,
  ToolCall,
  UserChatMessage,
} from "./chat_state";
import { initialChatState, selectContinuable } from "./chat_state";

export type LocalAction =
  | { type: "user_sent"; text: string; attachments?: ChatAttachment[] }
  | { type: "approval_sent"; toolUseId: string; approved: boolean; input?: Record<string, unknown> }
  /** Continue the reply cut at the token limit: its text goes on in the same bubble. */
  | { type: "continue_sent" }
  /** A retry or an edit: a new branch, then a reply to it (the server sends both). */
  | { type: "branch_sent" }
  | { type: "connection"; connection: ConnectionState }
  | { type: "dismiss_notice"; id: string }
  | { type: "new_chat" }
  /** Show another conversation: nothing on screen until its history comes. */
  | { type: "open_conversation"; sessionId: string }
  /** The open conversation was deleted (elsewhere): a new one, and a notice saying so. */
  | { type: "conversation_gone" };

export type ChatAction = { type: "frame"; frame: ServerFrame } | LocalAction;

export function reduce(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "frame":
      return reduceFrame(state, action.frame);
    case "user_sent":
      return finish(addUserMessage(state, action.text, action.attachments ?? []));
    case "approval_sent":
      return finish(decide(state, action.toolUseId, action.approved, action.input ?? null));
    case "continue_sent":
      return finish(reopenCut(state));
    case "branch_sent":
      return finish({ ...state, branching: true, turnOpen: true, lastReason: null, serverError: false, busy: false });
    case "connection":
      return state.connection === action.connection
        ? state
        : { ...state, connection: action.connection };
    case "dismiss_notice":
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
    case "new_chat":
      return newChat(state);
    case "open_conversation":
      return { ...newChat(state), sessionId: action.sessionId, awaitingHistory: true };
    case "conversation_gone":
      return addNotice(newChat(state), "conversation_deleted", "conversation_deleted");
    default:
      return assertNever(action);
  }
}

/** Apply one server frame. Frames already applied (a replay after reconnecting) are skipped. */
export function reduceFrame(state: ChatState, frame: ServerFrame): ChatState {
  if (isReplayed(state, frame)) return state;
  const next = applyFrame(state, frame);
  const lastSeq = frame.seq > next.lastSeq ? frame.seq : next.lastSeq;
  return finish(lastSeq === next.lastSeq ? next : { ...next, lastSeq });
}

function isReplayed(state: ChatState, frame: ServerFrame): boolean {
  // session_created and history belong to one connection (they carry the seq the client is at
  // after reading them), and a pending tool_request is re-sent on resume with its old seq.
  if (
    frame.event === "session_created" ||
    frame.event === "history" ||
    frame.event === "tool_request"
  ) {
    return false;
  }
  return frame.seq > 0 && frame.seq <= state.lastSeq;
}

function applyFrame(state: ChatState, frame: ServerFrame): ChatState {
  switch (frame.event) {
    case "session_created":
      return onSessionCreated(state, frame);
    case "status_update":
      return onStatusUpdate(state, frame);
    case "ai_chunk":
      return onAiChunk(state, frame);
    case "ai_thinking":
      return onAiThinking(state, frame);
    case "conversation_settings":
      return { ...state, settings: frame.data };
    case "assistant_message_completed":
      return withIds(
        onCompleted(state, frame.data.reason, frame.data.stop_reason ?? null, frame.data.usage ?? null),
        frame.data.ids ?? null,
      );
    case "tool_request":
      return onToolRequest(state, frame);
    case "tool_input_delta":
      return onToolInputDelta(state, frame);
    case "tool_chunk":
      return onToolChunk(state, frame);
    case "tool_started":
      return onToolStarted(state, frame);
    case "tool_finished":
      return onToolFinished(state, frame);
    case "tool_decided":
      return onToolDecided(state, frame);
    case "error":
      return onError(state, frame);
    case "history":
      return onHistory(state, frame);
    case "conversation_titled":
      return { ...state, generatedTitle: frame.data.title };
    default:
      return assertNever(frame);
  }
}

// ── status ─────────────────────────────────────────────────────────────────────────────────

export function deriveStatus(state: ChatState): ChatStatus {
  if (state.toolOrder.some((id) => state.toolCalls[id]?.state === "requested")) {
    return "awaiting_approval";
  }
  if (state.toolRunning) return "tool_running";
  if (state.turnOpen) return "streaming";
  if (state.lastReason === "error" || state.serverError) return "error";
  return "idle";
}

function finish(state: ChatState): ChatState {
  const status = deriveStatus(state);
  return status === state.status ? state : { ...state, status };
}

// ── messages ───────────────────────────────────────────────────────────────────────────────

function takeId(state: ChatState, prefix: string): [string, ChatState] {
  return [`${prefix}${state.nextId}`, { ...state, nextId: state.nextId + 1 }];
}

function putMessage(state: ChatState, message: ChatMessage): ChatState {
  const exists = message.id in state.messages;
  return {
    ...state,
    messages: { ...state.messages, [message.id]: message },
    messageIds: exists ? state.messageIds : [...state.messageIds, message.id],
  };
}

function addUserMessage(state: ChatState, text: string, attachments: ChatAttachment[]): ChatState {
  const [id, next] = takeId(state, "u");
  const message: UserChatMessage = attachments.length ? { role: "user", id, text, attachments } : { role: "user", id, text };
  return {
    ...putMessage(next, message),
    turnOpen: true,
    lastReason: null,
    serverError: false,
    busy: false,
  };
}

/** The assistant message of the running reply, created on its first part. */
function openAssistant(state: ChatState): [AssistantChatMessage, ChatState] {
  const current = state.streamingId ? state.messages[state.streamingId] : undefined;
  if (current?.role === "assistant" && current.streaming) return [current, state];
  const [id, next] = takeId(state, "a");
  const message: AssistantChatMessage = {
    role: "assistant",
    id,
    parts: [],
    streaming: true,
    reason: null,
    stopReason: null,
  };
  return [message, { ...putMessage(next, message), streamingId: id, turnOpen: true }];
}

function appendPart(state: ChatState, part: AssistantPart): ChatState {
  const [message, next] = openAssistant(state);
  return putMessage(next, { ...message, parts: [...message.parts, part] });
}

function onAiChunk(state: ChatState, frame: FrameOf<"ai_chunk">): ChatState {
  if (!frame.data.text) return state;
  const [message, next] = openAssistant(state);
  const parts = message.parts;
  const last = parts[parts.length - 1];
  const updated: AssistantPart[] =
    last?.type === "text"
      ? [...parts.slice(0, -1), { type: "text", text: last.text + frame.data.text }]
      : [...parts, { type: "text", text: frame.data.text }];
  return putMessage(next, { ...message, parts: updated });
}

function onAiThinking(state: ChatState, frame: FrameOf<"ai_thinking">): ChatState {
  if (!frame.data.text) return state;
  const [message, next] = openAssistant(state);
  const parts = message.parts;
  const last = parts[parts.length - 1];
  const updated: AssistantPart[] =
    last?.type === "thinking"
      ? [...parts.slice(0, -1), { type: "thinking", text: last.text + frame.data.text }]
      : [...parts, { type: "thinking", text: frame.data.text }];
  return putMessage(next, { ...message, parts: updated });
}

/** The cut reply streams again: the continuation's chunks are appended to it. */
function reopenCut(state: ChatState): ChatState {
  const id = selectContinuable(state);
  const message = id ? state.messages[id] : undefined;
  if (message?.role !== "assistant") return state;
  const reopened: AssistantChatMessage = { ...message, streaming: true, stopReason: null };
  return {
    ...putMessage(state, reopened),
    streamingId: message.id,
    turnOpen: true,
    lastReason: null,
    serverError: false,
    busy: false,
  };
}

function onCompleted(
  state: ChatState,
  reason: CompletionReason,
  stopReason: CutShort | null = null,
  usage: MessageUsage | null = null,
): ChatState {
  let next: ChatState = {
    ...state,
    turnOpen: false,
    aiTyping: false,
    toolRunning: false,
    filePath: null,
    streamingId: null,
    lastReason: reason,
  };
  const current = state.streamingId ? state.messages[state.streamingId] : undefined;
  if (current?.role === "assistant") {
    next = putMessage(next, { ...current, streaming: false, reason, stopReason, ...(usage ? { usage } : {}) });
  } else if ((reason === "cancelled" || stopReason !== null) && state.turnOpen) {
    // Stopped, cut or declined before a word came: the empty bubble still says so.
    const [id, withId] = takeId(next, "a");
    next = putMessage(withId, { role: "assistant", id, parts: [], streaming: false, reason, stopReason });
  }
  // Calls the reply left unfinished will not go on: say so instead of spinning forever.
  for (const id of state.toolOrder) {
    const call = next.toolCalls[id];
    if (
      call &&
      (call.state === "drafting" || call.state === "requested" || call.state === "approved" || call.state === "running")
    ) {
      next = putTool(next, { ...call, state: "failed", code: "interrupted", message: null });
    }
  }
  return next;
}

function onHistory(state: ChatState, frame: FrameOf<"history">): ChatState {
  // The history replaces what is on screen, and its seq is where this client now stands: when
  // the server could not resume from our last_seq (invalid_last_seq, or its frames were
  // compacted), frames after this one must not be skipped as replays of ours.
  let next: ChatState = {
    ...state,
    lastSeq: frame.seq,
    awaitingHistory: false,
    branching: false,
    messageIds: [],
    messages: {},
    streamingId: null,
    toolCalls: {},
    toolOrder: [],
  };
  for (const item of frame.data.messages) {
    const [id, withId] = takeId(next, "h");
    const stored = {
      ...(item.id != null ? { serverId: item.id } : {}),
      ...(item.branch ? { branch: item.branch } : {}),
    };
    if (item.role === "user") {
      const files = (item.attachments ?? []).map(pastAttachment);
      const said = { role: "user", id, text: item.text, ...stored } as const;
      next = putMessage(withId, files.length ? { ...said, attachments: files } : said);
      continue;
    }
    const cards = item.tool_calls ?? [];
    const parts: AssistantPart[] = [
      ...(item.thinking ? [{ type: "thinking", text: item.thinking } as const] : []),
      ...(item.text ? [{ type: "text", text: item.text } as const] : []),
    ];
    next = putMessage(withId, {
      role: "assistant",
      id,
      parts: [...parts, ...cards.map((c): AssistantPart => ({ type: "tool", toolUseId: c.id }))],
      streaming: false,
      reason: item.stopped ? "cancelled" : "ok",
      stopReason: item.stop_reason ?? null, // cut (the last one can be continued) or declined
      ...(item.usage ? { usage: item.usage } : {}),
      ...stored,
    });
    for (const card of cards) next = putTool(next, pastCall(card));
  }
  return next;
}

/** The completion names the person's message and the reply: edit and switch can name them. */
function withIds(state: ChatState, ids: ReplyIds | null): ChatState {
  if (ids === null) return state;
  let next = state;
  const order = state.messageIds;
  const replyIndex = order.length - 1;
  const reply = state.messages[order[replyIndex] ?? ""];
  if (reply?.role === "assistant" && ids.reply_id != null) {
    next = putMessage(next, { ...reply, serverId: ids.reply_id, ...(ids.branch ? { branch: ids.branch } : {}) });
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const message = next.messages[order[i] ?? ""];
    if (message?.role === "user") {
      if (ids.message_id != null) next = putMessage(next, { ...message, serverId: ids.message_id });
      break;
    }
  }
  return next;
}

function pastAttachment(file: HistoryAttachment): ChatAttachment {
  return { name: file.name, mediaType: file.media_type, bytes: file.bytes, url: file.url };
}

/** A past call from the history, drawn like the live card it was. */
function pastCall(card: HistoryToolCall): ToolCall {
  const base = {
    id: card.id,
    name: card.name,
    server: "",
    input: {},
    preview: null,
    annotations: null,
    output: card.result ?? "",
    receivedBytes: utf8Length(card.result ?? ""),
    filePath: card.summary,
    rule: pastRule(card),
  };
  return finalCall(base, card.status, null);
}

/** The rule that decided a past call, as its card names it (null: a person or nothing did). */
function pastRule(card: HistoryToolCall): DecidingRule | null {
  if (!card.rule_id) return null;
  const decision = card.status === "denied" ? "denied" : "allowed";
  if (!card.rule_label || !card.rule_source) {
    return { id: card.rule_id, label: card.rule_id, source: "settings", decision, gone: true };
  }
  return { id: card.rule_id, label: card.rule_label, source: card.rule_source, decision };
}

/** The card of a call that reached `status` (the server's ToolCallStatus). */
function finalCall(call: Omit<ToolCall, "state">, status: ToolCallStatus, code: string | null): ToolCall {
  if (status === "done") return { ...call, state: "done" };
  if (status === "denied") return { ...call, state: "denied" };
  return { ...call, state: "failed", code: code ?? status, message: null };
}

function newChat(state: ChatState): ChatState {
  // A fresh conversation on the same socket: the connection and the id counter carry over.
  const { connection, serverReconnecting, nextId } = state;
  return { ...initialChatState(), connection, serverReconnecting, nextId };
}

// ── session and status ─────────────────────────────────────────────────────────────────────

function onSessionCreated(state: ChatState, frame: FrameOf<"session_created">): ChatState {
  const id = frame.data.session_id;
  // A new conversation has no history to wait for.
  const awaitingHistory = state.awaitingHistory && frame.data.resumed;
  const settings = frame.data.settings ?? state.settings;
  // `resumed`: the server knew the conversation we asked for (same id); otherwise a new one.
  if (state.sessionId === null || state.sessionId === id) {
    return { ...state, sessionId: id, awaitingHistory, settings };
  }
  // The server did not know our conversation and opened a new one: the old reply is gone.
  const closed = state.turnOpen ? onCompleted(state, "error") : state;
  return {
    ...closed,
    sessionId: id,
    settings,
    awaitingHistory,
    lastSeq: frame.seq,
    busy: false,
    serverError: false,
  };
}

function onStatusUpdate(state: ChatState, frame: FrameOf<"status_update">): ChatState {
  const d = frame.data;
  let next = state;
  if (d.ai_typing != null) {
    next = { ...next, aiTyping: d.ai_typing, turnOpen: next.turnOpen || d.ai_typing };
  }
  if (d.busy != null) next = { ...next, busy: d.busy };
  if (d.reconnecting != null) next = { ...next, serverReconnecting: d.reconnecting };
  if (d.error != null) next = { ...next, serverError: d.error };
  if (d.tool_running === true) next = startTool(next, d.file_path ?? null);
  if (d.tool_running === false) next = endTool(next);
  return next;
}

// ── tools ──────────────────────────────────────────────────────────────────────────────────

function putTool(state: ChatState, call: ToolCall): ChatState {
  const known = call.id in state.toolCalls;
  return {
    ...state,
    toolCalls: { ...state.toolCalls, [call.id]: call },
    toolOrder: known ? state.toolOrder : [...state.toolOrder, call.id],
  };
}

function onToolRequest(state: ChatState, frame: FrameOf<"tool_request">): ChatState {
  const d = frame.data;
  const existing = state.toolCalls[d.id];
  // A re-sent request (resume) for a call we already decided or ran changes nothing; a
  // drafted call becomes the request, in the card that showed its draft.
  if (existing && existing.state !== "requested" && existing.state !== "drafting") return state;
  const call: ToolCall = {
    id: d.id,
    name: d.name,
    server: d.server,
    input: d.input,
    preview: d.preview ?? null,
    annotations: d.annotations ?? null,
    output: "",
    receivedBytes: 0,
    filePath: d.preview?.path ?? null,
    proposedGlob: d.proposed_glob ?? null,
    state: "requested",
  };
  const next = putTool({ ...state, turnOpen: true }, call);
  return existing ? next : appendPart(next, { type: "tool", toolUseId: d.id });
}

/** A rule decided the call: without asking, or while its dialog was open. */
function onToolDecided(state: ChatState, frame: FrameOf<"tool_decided">): ChatState {
  const d = frame.data;
  const existing = state.toolCalls[d.tool_use_id];
  const rule = { id: d.rule_id, label: d.rule_label, source: d.rule_source, decision: d.decision };
  const base = existing ?? {
    id: d.tool_use_id,
    name: d.name,
    server: d.server,
    input: d.input,
    preview: null,
    annotations: null,
    output: "",
    receivedBytes: 0,
    filePath: null,
  };
  const state_: "approved" | "denied" = d.decision === "allowed" ? "approved" : "denied";
  const open: ToolCall["state"][] = ["drafting", "requested", "approved"];
  const keep = existing && !open.includes(existing.state);
  const decided = { ...base, server: d.server, input: d.input, rule, state: state_ };
  const call: ToolCall = keep ? { ...existing, rule } : decided;
  const next = putTool({ ...state, turnOpen: true }, call);
  return existing ? next : appendPart(next, { type: "tool", toolUseId: d.tool_use_id });
}

/** A call Claude is still writing: its card opens on the first frame and its input grows. */
function onToolInputDelta(state: ChatState, frame: FrameOf<"tool_input_delta">): ChatState {
  const d = frame.data;
  const existing = state.toolCalls[d.tool_use_id];
  if (existing && existing.state !== "drafting") return state;
  const input = applyDraft(existing?.input ?? {}, d.partial, d.appended ?? []);
  const path = typeof input.path === "string" ? input.path : null;
  const call: ToolCall = {
    id: d.tool_use_id,
    name: d.name,
    server: "",
    input,
    preview: null,
    annotations: null,
    output: "",
    receivedBytes: 0,
    filePath: path,
    state: "drafting",
    truncated: existing?.truncated === true || d.truncated === true,
  };
  const next = putTool({ ...state, turnOpen: true }, call);
  return existing ? next : appendPart(next, { type: "tool", toolUseId: d.tool_use_id });
}

/** The draft after one frame: fields in `appended` continue their text, others replace. */
export function applyDraft(
  input: Record<string, unknown>,
  partial: Record<string, unknown>,
  appended: string[],
): Record<string, unknown> {
  const next = { ...input };
  for (const [key, value] of Object.entries(partial)) {
    const before = next[key];
    next[key] =
      appended.includes(key) && typeof before === "string" && typeof value === "string" ? before + value : value;
  }
  return next;
}

function decide(
  state: ChatState,
  id: string,
  approved: boolean,
  sentInput: Record<string, unknown> | null,
): ChatState {
  const call = state.toolCalls[id];
  if (call?.state !== "requested") return state;
  return putTool(state, { ...call, sentInput, refusal: null, state: approved ? "approved" : "denied" });
}

// `status_update.tool_running` is the badge's; which card runs comes from tool_started/finished.
function startTool(state: ChatState, filePath: string | null): ChatState {
  return { ...state, toolRunning: true, filePath };
}

function endTool(state: ChatState): ChatState {
  return { ...state, toolRunning: false, filePath: null };
}

function onToolStarted(state: ChatState, frame: FrameOf<"tool_started">): ChatState {
  const call = state.toolCalls[frame.data.tool_use_id];
  if (call?.state !== "approved" && call?.state !== "requested") return state;
  return putTool(state, { ...call, state: "running" });
}

function onToolFinished(state: ChatState, frame: FrameOf<"tool_finished">): ChatState {
  const { tool_use_id: id, status, code } = frame.data;
  const call = state.toolCalls[id];
  if (!call) return state;
  const next = finalCall(call, status, code ?? null);
  // A failure the error frame already explained keeps its words.
  if (next.state === "failed" && call.state === "failed") return state;
  return putTool(state, next);
}

function onToolChunk(state: ChatState, frame: FrameOf<"tool_chunk">): ChatState {
  const call = state.toolCalls[frame.data.tool_use_id];
  if (!call) return state;
  const chunk = frame.data.chunk;
  const updated = {
    ...call,
    output: call.output + chunk,
    receivedBytes: call.receivedBytes + utf8Length(chunk),
  };
  return putTool(state, call.state === "approved" ? { ...updated, state: "running" } : updated);
}

// ── errors ─────────────────────────────────────────────────────────────────────────────────

function onError(state: ChatState, frame: FrameOf<"error">): ChatState {
  const { message, detail } = frame.data;
  const code = detail?.code ?? message;
  const call = detail?.tool_use_id ? state.toolCalls[detail.tool_use_id] : undefined;
  if (call && (code === "invalid_edit" || code === "invalid_rule")) {
    // The answer was refused; the call still waits for a decision.
    const waiting: ToolCall = { ...call, refusal: { code, message }, state: "requested" } as ToolCall;
    return addNotice(putTool(state, waiting), message, code);
  }
  if (call && call.state !== "denied") {
    return putTool(state, { ...call, state: "failed", code, message });
  }
  if (state.branching) {
    // The retry or edit was refused before its turn began: no reply follows.
    return addNotice({ ...state, branching: false, turnOpen: false }, message, code);
  }
  if (code !== "busy" && state.turnOpen) {
    return appendPart(state, { type: "error", message, code });
  }
  const next = addNotice(state, message, code);
  return code === "busy" ? { ...next, busy: true } : next;
}

function addNotice(state: ChatState, message: string, code: string): ChatState {
  const [id, next] = takeId(state, "n");
  return { ...next, notices: [...next.notices, { id, message, code }].slice(-3) };
}
