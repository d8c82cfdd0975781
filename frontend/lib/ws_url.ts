// Where the chat socket lives, and the query it carries.
import type { Locale } from "./i18n";

export interface PageLocation {
  protocol: string;
  host: string;
  port: string;
  search: string;
}

export interface SocketQuery {
  /** The person's choice; null lets the server use its DEFAULT_LOCALE. */
  locale: Locale | null;
  sessionId: string | null;
  /** Absent when the client has nothing yet: the server then sends `history`. */
  lastSeq: number | null;
}

/**
 * The base URL: NEXT_PUBLIC_WS_URL when the build set it; the backend on :4000 when the page
 * comes from `next dev` (:3000); otherwise the page's own origin, which is the backend.
 */
export function socketBase(location: PageLocation, configured: string | undefined): string {
  if (configured) return configured;
  if (location.port === "3000") return "ws://localhost:4000/ws";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

export function socketUrl(base: string, query: SocketQuery, pageSearch = ""): string {
  const url = new URL(base);
  if (query.locale) url.searchParams.set("locale", query.locale);
  else url.searchParams.delete("locale");
  if (query.sessionId) url.searchParams.set("session_id", query.sessionId);
  else url.searchParams.delete("session_id");
  if (query.sessionId && query.lastSeq !== null) {
    url.searchParams.set("last_seq", String(query.lastSeq));
  } else {
    url.searchParams.delete("last_seq");
  }
  // With AUTH_TOKEN set, open the app as /?token=…: the token goes on to the socket.
  const token = new URLSearchParams(pageSearch).get("token");
  if (token && !url.searchParams.has("token")) url.searchParams.set("token", token);
  return url.toString();
}
