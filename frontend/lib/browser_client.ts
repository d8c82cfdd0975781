// The ChatClient of the real page: socket URL from the page, locale from preferences, and the
// session id kept in sessionStorage so a reload resumes the same conversation.
import { ChatClient } from "./chat_client";
import { localePreference } from "./preferences";
import { socketBase } from "./ws_url";

function sessionStore(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

export function createBrowserChatClient(): ChatClient {
  return new ChatClient({
    // Inlined at build time when set; the page's own origin otherwise.
    base: () => socketBase(window.location, process.env.NEXT_PUBLIC_WS_URL),
    locale: localePreference.get,
    pageSearch: () => window.location.search,
    sessionStore: sessionStore(),
  });
}
