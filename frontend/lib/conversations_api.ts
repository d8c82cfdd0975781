// The conversations HTTP API (/api/conversations, /api/search): list, delete, rename, pin,
// search, export and import. The sidebar reaches it through this interface, so tests can put a
// stand-in behind it.
import type { components } from "./api_types";

// The shapes come from the backend's OpenAPI document (lib/api_types.ts, `make protocol`).
type Schemas = components["schemas"];

/** Timestamps are ISO 8601, as the server sends them; pinned conversations are listed first. */
export type ConversationSummary = Schemas["ConversationSummary"];
/** A piece of a search snippet; `hit` pieces matched the query. */
export type SnippetPart = Schemas["SnippetPartOut"];
/** The best matches: a message's (`position` ≥ 0) or the title's (-1). */
export type SearchResult = Schemas["SearchResult"];

export type ExportFormat = "json" | "markdown";

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
  /** Rename or pin; resolves with the conversation as stored. */
  update(id: string, change: { title?: string; pinned?: boolean }): Promise<ConversationSummary>;
  /** Conversations whose title or messages hold every word of `query`, best first. */
  search(query: string, signal?: AbortSignal): Promise<SearchResult[]>;
  /** The conversation as a file: its name and its contents. */
  exportFile(id: string, format: ExportFormat, locale: string): Promise<{ name: string; blob: Blob }>;
  /** A JSON export read back as a new conversation. */
  importFile(body: string): Promise<ConversationSummary>;
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

function isSearchResult(value: unknown): value is SearchResult {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.title === "string" && Array.isArray(v.matches);
}

function fileName(response: Response, fallback: string): string {
  const match = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "");
  return match?.[1] ?? fallback;
}

export function httpConversationsApi(options: HttpApiOptions): ConversationsApi {
  const call = async (
    method: "GET" | "DELETE" | "PATCH" | "POST",
    path: string,
    body?: string,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const doFetch = options.fetch ?? fetch;
    return doFetch(`${options.base()}/api${path}`, { method, headers, body, signal, cache: "no-store" });
  };
  const request = (method: "GET" | "DELETE", path: string) => call(method, `/conversations${path}`);

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
    async update(id, change) {
      const response = await call("PATCH", `/conversations/${encodeURIComponent(id)}`, JSON.stringify(change));
      const body: unknown = response.ok ? await response.json() : null;
      if (!isSummary(body)) throw new ApiError(response.status, `update failed: ${response.status}`);
      return body;
    },
    async search(query, signal) {
      const params = new URLSearchParams({ q: query });
      const response = await call("GET", `/search?${params.toString()}`, undefined, signal);
      if (!response.ok) throw new ApiError(response.status, `search failed: ${response.status}`);
      const body: unknown = await response.json();
      return Array.isArray(body) ? body.filter(isSearchResult) : [];
    },
    async exportFile(id, format, locale) {
      const params = new URLSearchParams({ format, locale });
      const response = await call("GET", `/conversations/${encodeURIComponent(id)}/export?${params.toString()}`);
      if (!response.ok) throw new ApiError(response.status, `export failed: ${response.status}`);
      const extension = format === "json" ? "json" : "md";
      return { name: fileName(response, `gatehouse.${extension}`), blob: await response.blob() };
    },
    async importFile(text) {
      const response = await call("POST", "/conversations/import", text);
      const body: unknown = response.ok ? await response.json() : null;
      if (!isSummary(body)) throw new ApiError(response.status, `import failed: ${response.status}`);
      return body;
    },
  };
}
