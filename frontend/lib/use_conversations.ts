"use client";
// React bindings of the conversation list (lib/conversation_list.ts).
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ConversationList, ConversationListState } from "./conversation_list";

export const ConversationsContext = createContext<ConversationList | null>(null);

export function useConversationList(): ConversationList {
  const list = useContext(ConversationsContext);
  if (!list) throw new Error("useConversationList needs a <ConversationsContext.Provider>");
  return list;
}

/** Subscribe to one slice of the list. The selector must return a stable reference. */
export function useConversationsSelector<T>(selector: (state: ConversationListState) => T): T {
  const list = useConversationList();
  return useSyncExternalStore(
    list.subscribe,
    () => selector(list.getSnapshot()),
    () => selector(list.getServerSnapshot()),
  );
}
