// The conversations HTTP API (/api/conversations): list and delete. The sidebar reaches it
// through this interface, so tests can put a stand-in behind it.

export interface ConversationSummary {
  id: string;
  title: string;
  /** ISO 8601 timestamps, as the server sends them. */
  created_at: string;
  updated_at: string;
}

/** One page of the list, and the cursor of the next page (null on the last one). */
export interface ConversationPage {
  items: ConversationSummary[];
  next: string | null;
}

/** The server's page size; it answers at most 200 a page. */
export const PAGE_SIZE = 50;

export interface ConversationsApi {
  /** Newest first, as the server orders them: the first page, or the page after `cursor`. */
  list(cursor?: string | null): Promise<ConversationPage>;
  /** Resolves once the conversation is gone (also when it already was: 404). */
  remove(id: string): Promise<void>;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** The HTTP origin of the backend behind a socket URL: ws://host:4000/ws → http://host:4000. */
export function apiBase(socketBase: string): string {
  const url = new URL(socketBase);
  const protocol = url.protocol === "wss:" ? "https:" : url.protocol === "ws:" ? "http:" : url.protocol;
  return `${protocol}//${url.host}`;
}

/** The `?token=` the page was opened with (AUTH_TOKEN), if any. */
export function pageToken(pageSearch: string): string | null {
  return new URLSearchParams(pageSearch).get("token") || null;
}

function isSummary(value: unknown): value is ConversationSummary {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === "string" &&
    typeof v.title === "string" &&
    typeof v.created_at === "string" &&
    typeof v.updated_at === "string"
  );
}

export interface HttpApiOptions {
  /** http(s)://host:port, without a trailing slash. */
  base: () => string;
  token: () => string | null;
  fetch?: typeof fetch;
}

export function httpConversationsApi(options: HttpApiOptions): ConversationsApi {
  const request = async (method: "GET" | "DELETE", path: string): Promise<Response> => {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const doFetch = options.fetch ?? fetch;
    return doFetch(`${options.base()}/api/conversations${path}`, { method, headers, cache: "no-store" });
  };

  return {
    async list(cursor) {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) query.set("cursor", cursor);
      const response = await request("GET", `?${query.toString()}`);
      if (!response.ok) throw new ApiError(response.status, `list failed: ${response.status}`);
      const body: unknown = await response.json();
      if (!Array.isArray(body)) throw new ApiError(response.status, "list: not an array");
      return { items: body.filter(isSummary), next: response.headers.get("x-next-cursor") || null };
    },
    async remove(id) {
      const response = await request("DELETE", `/${encodeURIComponent(id)}`);
      if (response.ok || response.status === 404) return;
      throw new ApiError(response.status, `delete failed: ${response.status}`);
    },
  };
}
