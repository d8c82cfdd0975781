"use client";
// React bindings of the chat store.
import { createContext, useContext, useSyncExternalStore } from "react";
import type { ChatClient } from "./chat_client";
import type { ChatState } from "./chat_state";

export const ChatContext = createContext<ChatClient | null>(null);

export function useChatClient(): ChatClient {
  const client = useContext(ChatContext);
  if (!client) throw new Error("useChatClient needs a <ChatContext.Provider>");
  return client;
}

/** Subscribe to one slice of the chat. The selector must return a stable reference. */
export function useChatSelector<T>(selector: (state: ChatState) => T): T {
  const { store } = useChatClient();
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.getSnapshot()),
    () => selector(store.getServerSnapshot()),
  );
}
