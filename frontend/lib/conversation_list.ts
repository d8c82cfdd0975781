// The sidebar's list of conversations: a small store outside React (subscribe/getSnapshot for
// useSyncExternalStore) over the conversations API, with the delete confirmation in it.
//
// The server stores a conversation with its first message and names it after that message; a
// row may be listed for a moment before its title is saved, so the list leaves untitled ones
// out. The API pages: a refresh loads the first page, `loadMore` appends the next; once more
// pages were loaded, a refresh keeps them below the new first page.
import type { ChatState } from "./chat_state";
import type { ConversationSummary, ConversationsApi, ExportFormat, SearchResult } from "./conversations_api";

export type ListStatus = "idle" | "loading" | "ready" | "error";

export interface ConversationListState {
  /** "error": the last load failed (items, if any, are from the load before). */
  status: ListStatus;
  items: ConversationSummary[];
  /** The cursor of the page after the last one loaded; null when there is none. */
  next: string | null;
  loadingMore: boolean;
  /** The conversation whose deletion waits for the person's confirmation. */
  confirming: ConversationSummary | null;
  deleting: boolean;
  deleteFailed: boolean;
  /** The search box's text; the list shows `results` instead of `items` while it is set. */
  query: string;
  /** The answer to `query` (null while it is asked); "error" when asking failed. */
  results: SearchResult[] | null;
  searchFailed: boolean;
  /** A rename, pin, export or import failed (cleared by the next one). */
  actionFailed: boolean;
}

const INITIAL: ConversationListState = {
  status: "idle",
  items: [],
  next: null,
  loadingMore: false,
  confirming: null,
  deleting: false,
  deleteFailed: false,
  query: "",
  results: null,
  searchFailed: false,
  actionFailed: false,
};

/** How long typing must pause before a search is sent (ms). */
export const SEARCH_DEBOUNCE_MS = 200;

interface ChatSource {
  getSnapshot(): ChatState;
  subscribe(listener: () => void): () => void;
}

/**
 * Whether the list is out of date after the chat went from `prev` to `next`: a reply ended
 * (its conversation moved to the top), Claude titled the conversation, or the open
 * conversation got its first message (the
 * server saves it, title included, before it says the AI is typing) and is not listed yet.
 */
export function needsRefresh(
  prev: ChatState,
  next: ChatState,
  listed: (id: string) => boolean,
): boolean {
  if (prev.turnOpen && !next.turnOpen) return true;
  if (prev.generatedTitle !== next.generatedTitle && next.generatedTitle !== null) return true;
  return !prev.aiTyping && next.aiTyping && next.sessionId !== null && !listed(next.sessionId);
}

export class ConversationList {
  private state: ConversationListState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly api: ConversationsApi;
  private loading: Promise<void> | null = null;
  private again = false;
  /** Pages past the first were loaded: a refresh keeps them (the cursor is by position in
   * time, so the one after them stays valid). */
  private loadedMore = false;
  private searchTimer: ReturnType<typeof setTimeout> | null = null;
  private searching: AbortController | null = null;

  constructor(api: ConversationsApi) {
    this.api = api;
  }

  getSnapshot = (): ConversationListState => this.state;

  getServerSnapshot = (): ConversationListState => INITIAL;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  has(id: string): boolean {
    return this.state.items.some((item) => item.id === id);
  }

  find(id: string | null): ConversationSummary | undefined {
    return id === null ? undefined : this.state.items.find((item) => item.id === id);
  }

  /**
   * Load the list again. Calls while a load runs are folded into one more load after it, so
   * the list always ends up at least as new as the last call, with one request at a time.
   */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Append the next page (one request at a time; nothing when there is none). */
  async loadMore(): Promise<void> {
    const cursor = this.state.next;
    if (cursor === null || this.state.loadingMore) return;
    this.set({ loadingMore: true });
    try {
      const page = await this.api.list(cursor);
      const known = new Set(this.state.items.map((item) => item.id));
      const fresh = titled(page.items).filter((item) => !known.has(item.id));
      this.loadedMore = true;
      this.set({ items: [...this.state.items, ...fresh], next: page.next, loadingMore: false });
    } catch {
      this.set({ loadingMore: false, status: "error" });
    }
  }

  /** Refresh whenever the chat says the list went out of date (see needsRefresh). */
  follow(chat: ChatSource): () => void {
    let prev = chat.getSnapshot();
    return chat.subscribe(() => {
      const next = chat.getSnapshot();
      const stale = needsRefresh(prev, next, (id) => this.has(id));
      prev = next;
      if (stale) void this.refresh();
    });
  }

  askDelete(id: string): void {
    const item = this.find(id);
    if (!item || this.state.deleting) return;
    this.set({ confirming: item, deleteFailed: false });
  }

  cancelDelete(): void {
    if (this.state.deleting) return;
    this.set({ confirming: null, deleteFailed: false });
  }

  /** Delete the conversation being confirmed; true once it is gone. */
  async confirmDelete(): Promise<boolean> {
    const target = this.state.confirming;
    if (!target || this.state.deleting) return false;
    this.set({ deleting: true, deleteFailed: false });
    try {
      await this.api.remove(target.id);
    } catch {
      this.set({ deleting: false, deleteFailed: true });
      return false;
    }
    this.set({
      items: this.state.items.filter((item) => item.id !== target.id),
      confirming: null,
      deleting: false,
    });
    void this.refresh();
    return true;
  }

  /** The search box changed: ask the server once typing pauses; the last query wins. */
  setQuery(query: string): void {
    if (this.searchTimer !== null) clearTimeout(this.searchTimer);
    this.searching?.abort();
    this.searching = null;
    this.set({ query, results: null, searchFailed: false });
    if (query.trim() === "") return;
    this.searchTimer = setTimeout(() => void this.search(query), SEARCH_DEBOUNCE_MS);
  }

  private async search(query: string): Promise<void> {
    this.searchTimer = null;
    const controller = new AbortController();
    this.searching = controller;
    try {
      const results = await this.api.search(query, controller.signal);
      if (this.searching === controller) this.set({ results });
    } catch {
      if (this.searching === controller) this.set({ results: [], searchFailed: true });
    }
  }

  /** Rename (a blank title changes nothing); true once stored. */
  async rename(id: string, title: string): Promise<boolean> {
    if (title.trim() === "") return false;
    return this.change(id, { title: title.trim() });
  }

  async togglePin(id: string): Promise<boolean> {
    const item = this.find(id);
    return item ? this.change(id, { pinned: !item.pinned }) : false;
  }

  private async change(id: string, change: { title?: string; pinned?: boolean }): Promise<boolean> {
    try {
      const stored = await this.api.update(id, change);
      const items = this.state.items.map((item) => (item.id === id ? { ...item, ...stored } : item));
      this.set({ items, actionFailed: false });
    } catch {
      this.set({ actionFailed: true });
      return false;
    }
    void this.refresh(); // a pin moves the row
    return true;
  }

  /** The conversation as a file to save; null when the server refused. */
  async exportFile(id: string, format: ExportFormat, locale: string): Promise<{ name: string; blob: Blob } | null> {
    try {
      const file = await this.api.exportFile(id, format, locale);
      this.set({ actionFailed: false });
      return file;
    } catch {
      this.set({ actionFailed: true });
      return null;
    }
  }

  /** Import a JSON export; the new conversation's id, or null when it was refused. */
  async importFile(text: string): Promise<string | null> {
    try {
      const made = await this.api.importFile(text);
      this.set({ actionFailed: false });
      await this.refresh();
      return made.id;
    } catch {
      this.set({ actionFailed: true });
      return null;
    }
  }

  private async load(): Promise<void> {
    do {
      this.again = false;
      if (this.state.status !== "ready") this.set({ status: "loading" });
      try {
        const page = await this.api.list();
        const first = titled(page.items);
        if (this.loadedMore) {
          // Rows not on the new first page are older than all of it: they stay below it.
          const onFirst = new Set(first.map((item) => item.id));
          const older = this.state.items.filter((item) => !onFirst.has(item.id));
          this.set({ status: "ready", items: [...first, ...older] });
        } else {
          this.set({ status: "ready", items: first, next: page.next });
        }
      } catch {
        this.set({ status: "error" });
      }
    } while (this.again);
  }

  private set(patch: Partial<ConversationListState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}

function titled(items: ConversationSummary[]): ConversationSummary[] {
  return items.filter((item) => item.title.trim() !== "");
}
