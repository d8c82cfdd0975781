// The chat's state: plain data, built only by the reducer (lib/chat_reducer.ts).
import type { ChatAttachment } from "./attachments";
import type { FilePreview, ToolAnnotations } from "./protocol";
import type { Branch, MessageUsage } from "./ws_events";

export type ChatStatus = "idle" | "streaming" | "awaiting_approval" | "tool_running" | "error";
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";
export type CompletionReason = "ok" | "error" | "cancelled";
/** Why Claude ended an "ok" reply, when the person should know (the completion frame says). */
export type CutShort = "max_tokens" | "refusal";

export interface TextPart {
  type: "text";
  text: string;
}
/** Claude's thinking before its answer: shown open while it streams, folded once text starts. */
export interface ThinkingPart {
  type: "thinking";
  text: string;
}
export interface ToolPart {
  type: "tool";
  toolUseId: string;
}
export interface ErrorPart {
  type: "error";
  message: string;
  code: string;
}
export type AssistantPart = TextPart | ThinkingPart | ToolPart | ErrorPart;

/** Where a message stands on the server: its id, and its place among its alternatives. */
export interface Stored {
  /** The server's id of the message (edit and switch name it); absent until the server says. */
  serverId?: number;
  /** Its alternatives (edits, retries), when it has some: `< index+1/count >`. */
  branch?: Branch;
}
export interface UserChatMessage extends Stored {
  role: "user";
  id: string;
  text: string;
  attachments?: ChatAttachment[];
}
export interface AssistantChatMessage extends Stored {
  role: "assistant";
  id: string;
  parts: AssistantPart[];
  /** True while chunks may still arrive (until `assistant_message_completed`). */
  streaming: boolean;
  reason: CompletionReason | null;
  /** Cut at the token limit (Continue goes on with it) or declined; null otherwise. */
  stopReason: CutShort | null;
  /** Tokens and cost of the whole reply, once it is complete (when the server knows them). */
  usage?: MessageUsage | null;
}
export type ChatMessage = UserChatMessage | AssistantChatMessage;

interface ToolCallBase {
  id: string;
  name: string;
  server: string;
  input: Record<string, unknown>;
  preview: FilePreview | null;
  /** The hints its MCP server declares (read-only, destructive…); null when none. */
  annotations: ToolAnnotations | null;
  /** The `tool_chunk` text received so far, concatenated. */
  output: string;
  receivedBytes: number;
  filePath: string | null;
  /** The folder glob the dialog proposes for a scoped rule (`notes/**`), when the call names a path. */
  proposedGlob?: string | null;
  /** The rule that decided the call without asking, when one did. */
  rule?: DecidingRule | null;
  /** The edited input last sent with an approval (the editor reopens with it if refused). */
  sentInput?: Record<string, unknown> | null;
  /** Why the server refused the last answer (`invalid_edit`, `invalid_rule`); the call waits. */
  refusal?: { code: string; message: string } | null;
}

export interface DecidingRule {
  id: string;
  label: string;
  source: "dialog" | "settings" | "policy_file";
  decision: "allowed" | "denied";
  /** Revoked since (a card from the history): nothing left to open or revoke. */
  gone?: boolean;
}
export type ToolCall =
  /** Claude is still writing the call (`tool_input_delta`): `input` is its draft so far. */
  | (ToolCallBase & { state: "drafting"; truncated: boolean })
  | (ToolCallBase & { state: "requested" })
  | (ToolCallBase & { state: "approved" })
  | (ToolCallBase & { state: "running" })
  | (ToolCallBase & { state: "done" })
  | (ToolCallBase & { state: "denied" })
  | (ToolCallBase & { state: "failed"; code: string; message: string | null });
export type ToolCallState = ToolCall["state"];

/** An error that belongs to no reply (busy, a refused frame, a lost approval): a banner. */
export interface Notice {
  id: string;
  message: string;
  code: string;
}

/** The model and thinking the conversation's next reply uses (the server says). */
export interface ConversationSettings {
  model: string;
  thinking: boolean;
}

export interface ChatState {
  sessionId: string | null;
  /** null until the server has said (session_created, conversation_settings). */
  settings: ConversationSettings | null;
  /**
   * A conversation was asked for by id with nothing on screen (a reload, a switch in the
   * sidebar): its history is on the way.
   */
  awaitingHistory: boolean;
  /** Highest `seq` applied: frames at or below it are replays and are skipped. */
  lastSeq: number;
  connection: ConnectionState;
  status: ChatStatus;
  /** A reply is running: from the user's message until `assistant_message_completed`. */
  turnOpen: boolean;
  aiTyping: boolean;
  toolRunning: boolean;
  filePath: string | null;
  busy: boolean;
  /** The server says it is reconnecting upstream (`status_update.reconnecting`). */
  serverReconnecting: boolean;
  serverError: boolean;
  lastReason: CompletionReason | null;
  /** Message order; the messages themselves by id, so a chunk replaces only its own message. */
  messageIds: string[];
  messages: Record<string, ChatMessage>;
  /** The assistant message that `ai_chunk`s go to. */
  streamingId: string | null;
  toolCalls: Record<string, ToolCall>;
  toolOrder: string[];
  notices: Notice[];
  nextId: number;
  /** Claude's title for this conversation, once `conversation_titled` came (null before). */
  generatedTitle: string | null;
  /** A retry or an edit was sent: its `history` (or a refusal) comes next. */
  branching: boolean;
}

export function initialChatState(): ChatState {
  return {
    sessionId: null,
    settings: null,
    awaitingHistory: false,
    lastSeq: 0,
    connection: "connecting",
    status: "idle",
    turnOpen: false,
    aiTyping: false,
    toolRunning: false,
    filePath: null,
    busy: false,
    serverReconnecting: false,
    serverError: false,
    lastReason: null,
    messageIds: [],
    messages: {},
    streamingId: null,
    toolCalls: {},
    toolOrder: [],
    notices: [],
    nextId: 1,
    generatedTitle: null,
    branching: false,
  };
}

// ── selectors (return stable references: they are used with useSyncExternalStore) ──────────

export function selectMessages(state: ChatState): ChatMessage[] {
  return state.messageIds.flatMap((id) => state.messages[id] ?? []);
}

/** The tool call the approval modal shows: the oldest one still waiting. */
export function selectPendingTool(state: ChatState): ToolCall | null {
  for (const id of state.toolOrder) {
    const call = state.toolCalls[id];
    if (call?.state === "requested") return call;
  }
  return null;
}

/**
 * Every call still waiting for the person, oldest first. Memoized per selector: the same array
 * while the waiting calls are the same objects (a chunk of another call changes nothing).
 */
export function pendingToolsSelector(): (state: ChatState) => ToolCall[] {
  let last: ToolCall[] = [];
  return (state) => {
    const calls = state.toolOrder.flatMap((id) => {
      const call = state.toolCalls[id];
      return call?.state === "requested" ? [call] : [];
    });
    const same = calls.length === last.length && calls.every((call, i) => call === last[i]);
    if (!same) last = calls;
    return last;
  };
}

export function selectCanSend(state: ChatState): boolean {
  return state.connection === "open" && !state.turnOpen;
}

/**
 * Where Retry is offered: the last message, when it is a finished reply, or the person's own
 * message left without one (its reply failed before a word was kept, seen after a reload).
 */
export function selectRetryable(state: ChatState): string | null {
  const id = state.messageIds[state.messageIds.length - 1];
  const message = id ? state.messages[id] : undefined;
  if (message?.role === "assistant") return message.streaming ? null : message.id;
  return message?.role === "user" && !state.turnOpen ? message.id : null;
}

/** The reply a Continue would go on with: the last message, cut at the token limit. */
export function selectContinuable(state: ChatState): string | null {
  const id = state.messageIds[state.messageIds.length - 1];
  const message = id ? state.messages[id] : undefined;
  return message?.role === "assistant" && message.stopReason === "max_tokens" && !message.streaming
    ? message.id
    : null;
}
