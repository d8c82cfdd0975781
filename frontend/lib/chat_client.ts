// The chat, wired: a store fed by a socket transport, and the few things a person can do.
import type { PendingFile } from "./attachments";
import type { ChatAction } from "./chat_reducer";
import { selectCanSend, selectContinuable, selectRetryable } from "./chat_state";
import { ChatStore, type ChatStoreOptions } from "./chat_store";
import type { Locale } from "./i18n";
import type { ClientFrame } from "./protocol";
import type { ToolApprovalData } from "./ws_events";
import { SocketTransport } from "./transport";
import { socketUrl } from "./ws_url";

const SESSION_KEY = "gatehouse.session";

export interface ChatClientOptions {
  /** ws(s)://…/ws, without query. */
  base: () => string;
  /** The language the person chose; null lets the server use its default. */
  locale: () => Locale | null;
  /** The language the server uses for this socket (session_created), to show it when none was chosen. */
  onServerLocale?: (locale: Locale) => void;
  /** The page's query string (to pass `token` on). */
  pageSearch?: () => string;
  createSocket?: (url: string) => WebSocket;
  /** Where the session id is kept across reloads (sessionStorage: one per tab). */
  sessionStore?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** Render batching (tests publish every change at once). */
  store?: ChatStoreOptions;
  random?: () => number;
}

export type DecisionScope = "once" | "conversation" | "always";
export interface DecisionOptions {
  scope?: DecisionScope;
  /** Narrows the rule a scope makes to the call's path (the dialog proposes the folder). */
  pathGlob?: string;
  /** Told to Claude with a denial. */
  reason?: string;
  /** The input as the person edited it (approval only); the server checks it again. */
  input?: Record<string, unknown>;
}

export class ChatClient {
  readonly store: ChatStore;
  private readonly transport: SocketTransport;
  private readonly options: ChatClientOptions;
  /** The choice the current socket was opened with (undefined before the first). */

  constructor(options: ChatClientOptions) {
    this.options = options;
    this.store = new ChatStore(options.store);
    // After a reload: the conversation of this tab, whose history the first connection asks for.
    const stored = options.sessionStore?.getItem(SESSION_KEY);
    if (stored) this.dispatch({ type: "open_conversation", sessionId: stored });
    this.transport = new SocketTransport({
      url: () => this.url(),
      onFrame: (frame) => {
        this.dispatch({ type: "frame", frame });
        if (frame.event === "session_created") {
          this.options.sessionStore?.setItem(SESSION_KEY, frame.data.session_id);
          if (frame.data.locale) this.options.onServerLocale?.(frame.data.locale);
        }
      },
      onConnection: (connection) => this.dispatch({ type: "connection", connection }),
      onGone: () => {
        // Deleted elsewhere (another tab, the API): start a new conversation and say why.
        this.options.sessionStore?.removeItem(SESSION_KEY);
        this.dispatch({ type: "conversation_gone" });
        this.transport.restart();
      },
      createSocket: options.createSocket,
      random: options.random,
    });
  }

  start(): void {
    this.transport.start();
  }

  stop(): void {
    this.transport.stop();
  }

  /** Send a message (text, files or both); false (and nothing sent) when it is empty or a
   * reply is running. */
  sendMessage(text: string, files: PendingFile[] = []): boolean {
    const trimmed = text.trim();
    if ((!trimmed && !files.length) || !selectCanSend(this.store.current)) return false;
    const attachments = files.map(({ name, mediaType, bytes, url }) => ({ name, mediaType, bytes, url }));
    this.dispatch({ type: "user_sent", text: trimmed, attachments });
    const uploads = files.map(({ name, mediaType, data }) => ({ name, media_type: mediaType, data }));
    this.send({ event: "user_message", data: files.length ? { text: trimmed, attachments: uploads } : { text: trimmed } });
    return true;
  }

  /** The person's answer; a scope other than once also makes a rule on the server. */
  decide(toolUseId: string, approved: boolean, options: DecisionOptions = {}): void {
    const call = this.store.current.toolCalls[toolUseId];
    if (call?.state !== "requested") return;
    const input = approved ? options.input : undefined;
    this.dispatch({ type: "approval_sent", toolUseId, approved, input });
    const data: ToolApprovalData = { tool_use_id: toolUseId, approved };
    if (input) data.input = input;
    if (options.scope && options.scope !== "once") data.scope = options.scope;
    if (options.scope && options.scope !== "once" && options.pathGlob) data.path_glob = options.pathGlob;
    if (!approved && options.reason?.trim()) data.reason = options.reason.trim();
    this.send({ event: "tool_approval", data });
  }

  /** Decide every call still waiting; approving leaves out a call that cannot run (a bad path). */
  decideAll(approved: boolean): void {
    const state = this.store.current;
    for (const id of state.toolOrder) {
      const call = state.toolCalls[id];
      if (call?.state !== "requested") continue;
      if (approved && call.preview && !call.preview.valid_path) continue;
      this.decide(id, approved);
    }
  }

  cancel(): void {
    if (this.store.current.turnOpen) this.send({ event: "cancel", data: {} });
  }

  /** Continue the reply cut at the token limit; false when there is none or a reply runs. */
  continueReply(): boolean {
    const state = this.store.current;
    if (!selectCanSend(state) || selectContinuable(state) === null) return false;
    this.dispatch({ type: "continue_sent" });
    this.send({ event: "continue", data: {} });
    return true;
  }

  /** Answer the person's last message again; the reply it replaces stays as a branch. */
  retry(): boolean {
    const state = this.store.current;
    if (!selectCanSend(state) || selectRetryable(state) === null) return false;
    this.dispatch({ type: "branch_sent" });
    this.send({ event: "retry", data: {} });
    return true;
  }

  /** Say one of the person's messages again, changed: a new branch from there. */
  editMessage(messageId: number, text: string): boolean {
    const trimmed = text.trim();
    if (!selectCanSend(this.store.current) || !trimmed) return false;
    this.dispatch({ type: "branch_sent" });
    this.send({ event: "edit_message", data: { message_id: messageId, text: trimmed } });
    return true;
  }

  /** Show another branch at a message (one of its siblings); the server sends its history. */
  switchBranch(messageId: number): boolean {
    if (!selectCanSend(this.store.current)) return false;
    this.send({ event: "switch_branch", data: { message_id: messageId } });
    return true;
  }

  /** Change the conversation's model or thinking for its next replies; the server echoes it. */
  configure(settings: { model?: string; thinking?: boolean }): void {
    this.send({ event: "configure", data: settings });
  }

  dismissNotice(id: string): void {
    this.dispatch({ type: "dismiss_notice", id });
  }

  /** Forget this conversation and open a new one. */
  newChat(): void {
    this.options.sessionStore?.removeItem(SESSION_KEY);
    this.dispatch({ type: "new_chat" });
    this.transport.restart();
  }

  /**
   * Show another conversation: connect to it without last_seq, so the server sends its history
   * (and the running reply, if any). False when it is already the open one.
   */
  openConversation(sessionId: string): boolean {
    if (this.store.current.sessionId === sessionId) return false;
    this.options.sessionStore?.setItem(SESSION_KEY, sessionId);
    this.dispatch({ type: "open_conversation", sessionId });
    this.transport.restart();
    return true;
  }

  /** Reconnect now (after giving up); the conversation resumes. */
  reconnect(): void {
    this.transport.stop();
    this.transport.start();
  }

  private send(frame: ClientFrame): void {
    this.transport.send(frame);
  }

  private dispatch(action: ChatAction): void {
    this.store.dispatch(action);
  }

  private url(): string {
    const state = this.store.current;
    const sessionId = state.sessionId ?? this.options.sessionStore?.getItem(SESSION_KEY) ?? null;
    // With nothing on screen, leave last_seq out: the server sends the history.
    const hasContent = state.messageIds.length > 0 || state.lastSeq > 0;
    const locale = this.options.locale();
    return socketUrl(
      this.options.base(),
      { locale, sessionId, lastSeq: hasContent ? state.lastSeq : null },
      this.options.pageSearch?.() ?? "",
    );
  }
}
