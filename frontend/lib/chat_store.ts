// The chat store: the reducer's state outside React, with subscribe/getSnapshot for
// useSyncExternalStore. Streaming chunks are coalesced to one notification per animation
// frame; the first chunk after a quiet spell is published at once, so the first token is
// never delayed.
import { reduce, type ChatAction } from "./chat_reducer";
import { initialChatState, type ChatState } from "./chat_state";

export type Scheduler = (callback: () => void) => () => void;

export const animationFrameScheduler: Scheduler = (callback) => {
  if (typeof requestAnimationFrame === "function") {
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  }
  const handle = setTimeout(callback, 16);
  return () => clearTimeout(handle);
};

export interface ChatStoreOptions {
  initial?: ChatState;
  schedule?: Scheduler;
  now?: () => number;
  /** Chunks closer than this to the last publication wait for the next frame. */
  frameMs?: number;
}

const SERVER_SNAPSHOT = initialChatState();

function isChunk(action: ChatAction): boolean {
  return (
    action.type === "frame" &&
    (action.frame.event === "ai_chunk" || action.frame.event === "tool_chunk")
  );
}

export class ChatStore {
  private state: ChatState;
  private published: ChatState;
  private readonly listeners = new Set<() => void>();
  private cancelFlush: (() => void) | null = null;
  private lastPublish = Number.NEGATIVE_INFINITY;
  private readonly schedule: Scheduler;
  private readonly now: () => number;
  private readonly frameMs: number;

  constructor(options: ChatStoreOptions = {}) {
    this.state = options.initial ?? initialChatState();
    this.published = this.state;
    this.schedule = options.schedule ?? animationFrameScheduler;
    this.now = options.now ?? (() => performance.now());
    this.frameMs = options.frameMs ?? 16;
  }

  /** The latest state, published or not (for the client's own decisions). */
  get current(): ChatState {
    return this.state;
  }

  getSnapshot = (): ChatState => this.published;

  getServerSnapshot = (): ChatState => SERVER_SNAPSHOT;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  dispatch(action: ChatAction): void {
    const previous = this.state;
    this.state = reduce(previous, action);
    if (this.state === previous) return;
    if (!isChunk(action)) {
      this.flush();
      return;
    }
    if (this.cancelFlush) return; // a frame is already booked
    if (this.now() - this.lastPublish >= this.frameMs) {
      this.flush();
      return;
    }
    let ran = false;
    const cancel = this.schedule(() => {
      ran = true;
      this.cancelFlush = null;
      this.flush();
    });
    if (!ran) this.cancelFlush = cancel;
  }

  /** Publish the current state to subscribers now. */
  flush(): void {
    if (this.cancelFlush) {
      this.cancelFlush();
      this.cancelFlush = null;
    }
    this.lastPublish = this.now();
    if (this.published === this.state) return;
    this.published = this.state;
    for (const listener of [...this.listeners]) listener();
  }
}
