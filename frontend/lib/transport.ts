// The socket behind the chat: connects, parses frames, reconnects with capped exponential
// backoff and jitter, and queues what is sent while the socket is down.
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from "./backoff";
import type { ConnectionState } from "./chat_state";
import { encodeClientFrame, parseServerFrame, type ClientFrame, type ServerFrame } from "./protocol";

/** 1008: the server refused our origin or token; retrying cannot help. */
const POLICY_VIOLATION = 1008;
/** 4404: the conversation was deleted; resuming it cannot work. */
export const CONVERSATION_DELETED = 4404;
const MAX_QUEUED = 50;
// WebSocket.readyState values (not read from the global, which Node may lack in tests).
const CONNECTING = 0;
const OPEN = 1;

export interface TransportOptions {
  /** Called before each connection attempt (it carries session_id/last_seq/locale). */
  url: () => string;
  onFrame: (frame: ServerFrame) => void;
  onConnection: (state: ConnectionState) => void;
  /** The server closed with 4404 (conversation deleted). Without it, 4404 retries like a drop. */
  onGone?: () => void;
  createSocket?: (url: string) => WebSocket;
  backoff?: BackoffOptions;
  random?: () => number;
}

export class SocketTransport {
  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private running = false;
  private queue: string[] = [];
  private readonly options: TransportOptions;

  constructor(options: TransportOptions) {
    this.options = options;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect("connecting");
  }

  stop(): void {
    this.running = false;
    this.clearRetry();
    this.drop();
    this.options.onConnection("closed");
  }

  /** Drop the current socket and connect again now (a new locale, a new chat). */
  restart(): void {
    if (!this.running) return;
    this.clearRetry();
    this.drop();
    this.attempt = 0;
    this.connect("connecting");
  }

  /** Send now when open; otherwise queue for the next open socket. */
  send(frame: ClientFrame): void {
    const text = encodeClientFrame(frame);
    if (this.socket?.readyState === OPEN) {
      this.socket.send(text);
      return;
    }
    this.queue = [...this.queue, text].slice(-MAX_QUEUED);
  }

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  private connect(state: ConnectionState): void {
    this.options.onConnection(state);
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: WebSocket;
    try {
      socket = create(this.options.url());
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.options.onConnection("open");
      const queued = this.queue;
      this.queue = [];
      for (const text of queued) socket.send(text);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      const frame = parseServerFrame(event.data);
      if (frame) this.options.onFrame(frame);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.running) return;
      if (event.code === POLICY_VIOLATION) {
        this.running = false;
        this.options.onConnection("closed");
        return;
      }
      if (event.code === CONVERSATION_DELETED && this.options.onGone) {
        this.options.onGone();
        return;
      }
      this.scheduleRetry();
    };
    // An error is always followed by close, which decides what happens next.
    socket.onerror = () => undefined;
  }

  private scheduleRetry(): void {
    this.options.onConnection("reconnecting");
    const delay = backoffDelay(
      this.attempt,
      this.options.backoff ?? DEFAULT_BACKOFF,
      this.options.random,
    );
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.running) this.connect("reconnecting");
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    if (socket.readyState === OPEN || socket.readyState === CONNECTING) {
      socket.close(1000, "client closing");
    }
  }
}
