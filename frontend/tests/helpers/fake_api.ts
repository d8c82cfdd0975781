// A conversations API stand-in: the test decides what the server holds and when it answers.
import {
  ApiError,
  type ConversationPage,
  type ConversationSummary,
  type ConversationsApi,
  type ExportFormat,
  type SearchResult,
} from "@/lib/conversations_api";

export function conversation(id: string, title: string, minutesAgo = 0): ConversationSummary {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return { id, title, created_at: at, updated_at: at, pinned: false };
}

export class FakeConversationsApi implements ConversationsApi {
  conversations: ConversationSummary[];
  listCalls = 0;
  removeCalls: string[] = [];
  failList = false;
  failRemove = false;
  /** Rows a page; the cursor is the index of the page's first row. */
  pageSize = 1000;
  private gates: (() => void)[] = [];
  private holding = false;

  constructor(conversations: ConversationSummary[] = []) {
    this.conversations = conversations;
  }

  /** From now on, list() waits until release(). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const open of this.gates.splice(0)) open();
  }

  async list(cursor?: string | null): Promise<ConversationPage> {
    this.listCalls += 1;
    if (this.holding) await new Promise<void>((open) => this.gates.push(open));
    if (this.failList) throw new ApiError(500, "list failed");
    const start = cursor ? Number(cursor) : 0;
    const end = start + this.pageSize;
    const next = end < this.conversations.length ? String(end) : null;
    return { items: this.conversations.slice(start, end), next };
  }

  async remove(id: string): Promise<void> {
    this.removeCalls.push(id);
    if (this.failRemove) throw new ApiError(500, "delete failed");
    this.conversations = this.conversations.filter((c) => c.id !== id);
  }

  /** What search() answers, whatever the query; the queries asked are kept. */
  searchResults: SearchResult[] = [];
  searches: string[] = [];
  imported: string[] = [];

  async update(id: string, change: { title?: string; pinned?: boolean }): Promise<ConversationSummary> {
    const found = this.conversations.find((c) => c.id === id);
    if (!found) throw new ApiError(404, "not found");
    Object.assign(found, change);
    return { ...found };
  }

  async search(query: string): Promise<SearchResult[]> {
    this.searches.push(query);
    return this.searchResults;
  }

  async exportFile(id: string, format: ExportFormat): Promise<{ name: string; blob: Blob }> {
    return { name: `${id}.${format}`, blob: new Blob([id]) };
  }

  async importFile(body: string): Promise<ConversationSummary> {
    this.imported.push(body);
    const made = conversation(`imported-${this.imported.length}`, "Imported");
    this.conversations = [made, ...this.conversations];
    return made;
  }
}
