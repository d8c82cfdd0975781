// Links between the UI's pages (chat, rules, activity) that keep the page's `?token=`.
import { pageToken } from "./conversations_api";

export type PageName = "chat" | "rules" | "activity";

const PATHS: Record<PageName, string> = { chat: "/", rules: "/rules", activity: "/activity" };

export function pageHref(page: PageName, pageSearch: string): string {
  const token = pageToken(pageSearch);
  return token ? `${PATHS[page]}?${new URLSearchParams({ token }).toString()}` : PATHS[page];
}
