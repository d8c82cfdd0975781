// The chat store: the reducer's state outside React, with subscribe/getSnapshot for
// useSyncExternalStore.
//
// Streaming chunks are coalesced: the first chunk after a quiet spell is published at once (the
// first token is never delayed), later ones at most once per animation frame, and never more
// often than every 2× the time the last publication took to render. That bound keeps a reply
// whose last Markdown block grows large (one long paragraph or code block, re-parsed on each
// render) from spending all its time rendering: the cost per chunk stays flat.
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

/** Run `callback` in the next task: after React's synchronous re-render of a publication. */
export const nextTask = (callback: () => void): void => {
  if (typeof MessageChannel === "function") {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      callback();
    };
    channel.port2.postMessage(null);
    return;
  }
  setTimeout(callback, 0);
};

export interface ChatStoreOptions {
  initial?: ChatState;
  schedule?: Scheduler;
  now?: () => number;
  /** Measure render cost by running a callback after the current task (see nextTask). */
  afterRender?: ((callback: () => void) => void) | null;
  /** Chunks closer than this to the last publication wait for the next frame. */
  frameMs?: number;
  /** The longest chunks ever wait, however slow rendering gets. */
  maxWaitMs?: number;
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
  private renderCost = 0;
  private readonly schedule: Scheduler;
  private readonly now: () => number;
  private readonly afterRender: ((callback: () => void) => void) | null;
  private readonly frameMs: number;
  private readonly maxWaitMs: number;

  constructor(options: ChatStoreOptions = {}) {
    this.state = options.initial ?? initialChatState();
    this.published = this.state;
    this.schedule = options.schedule ?? animationFrameScheduler;
    this.now = options.now ?? (() => performance.now());
    this.afterRender = options.afterRender === undefined ? nextTask : options.afterRender;
    this.frameMs = options.frameMs ?? 16;
    this.maxWaitMs = options.maxWaitMs ?? 400;
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
    if (this.cancelFlush) return; // a publication is already booked
    if (this.dueIn() <= 0) {
      this.flush();
      return;
    }
    this.book();
  }

  /** Publish the current state to subscribers now. */
  flush(): void {
    if (this.cancelFlush) {
      this.cancelFlush();
      this.cancelFlush = null;
    }
    const started = this.now();
    this.lastPublish = started;
    if (this.published === this.state) return;
    this.published = this.state;
    for (const listener of [...this.listeners]) listener();
    this.afterRender?.(() => {
      this.renderCost = this.now() - started;
    });
  }

  /** Milliseconds until chunks may be published again. */
  private dueIn(): number {
    const interval = Math.min(this.maxWaitMs, Math.max(this.frameMs, 2 * this.renderCost));
    return this.lastPublish + interval - this.now();
  }

  /** Publish at the first animation frame that is due. */
  private book(): void {
    let booked = false;
    let ran = false;
    const cancel = this.schedule(() => {
      ran = true;
      this.cancelFlush = null;
      // A scheduler that calls back at once has no frames to wait for: publish.
      if (!booked || this.dueIn() <= 0) this.flush();
      else this.book();
    });
    booked = true;
    if (!ran) this.cancelFlush = cancel;
  }
}
