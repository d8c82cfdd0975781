// The ChatClient of the real page: socket URL from the page, the locale the person chose (else
// the server's, adopted from session_created), and the session id kept in sessionStorage so a
// reload resumes the same conversation. The conversation list talks to the same backend over
// HTTP, with the page's `?token=` if any.
import { ChatClient } from "./chat_client";
import { ConversationList } from "./conversation_list";
import { apiBase, httpConversationsApi, pageToken } from "./conversations_api";
import { httpModelsApi, type ModelsApi } from "./models_api";
import { localePreference } from "./preferences";
import { socketBase } from "./ws_url";

function sessionStore(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

// Inlined at build time when set; the page's own origin otherwise.
const pageSocketBase = () => socketBase(window.location, process.env.NEXT_PUBLIC_WS_URL);

export function createBrowserChatClient(): ChatClient {
  return new ChatClient({
    base: pageSocketBase,
    locale: localePreference.chosen,
    onServerLocale: localePreference.adopt,
    pageSearch: () => window.location.search,
    sessionStore: sessionStore(),
  });
}

export function createBrowserConversationList(): ConversationList {
  return new ConversationList(
    httpConversationsApi({
      base: () => apiBase(pageSocketBase()),
      token: () => pageToken(window.location.search),
    }),
  );
}

/** Where attachments' server paths are fetched from, and with which token (AUTH_TOKEN). */
export const attachmentBase = () => (typeof window === "undefined" ? "" : apiBase(pageSocketBase()));
export const attachmentToken = () => (typeof window === "undefined" ? null : pageToken(window.location.search));
export function createBrowserModelsApi(): ModelsApi {
  return httpModelsApi({
    base: () => apiBase(pageSocketBase()),
    token: () => pageToken(window.location.search),
  });
}
