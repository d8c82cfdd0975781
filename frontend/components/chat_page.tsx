"use client";
// The chat page: one ChatClient for the page's life, the layout, and the approval modal.
import { useEffect, useState } from "react";
import { createBrowserChatClient } from "@/lib/browser_client";
import { selectPendingTool } from "@/lib/chat_state";
import { ChatContext, useChatSelector } from "@/lib/use_chat";
import { useLocale } from "@/lib/use_preferences";
import { useStickToBottom } from "@/lib/use_stick_to_bottom";
import { AppHeader } from "./app_header";
import { ApprovalModal } from "./approval_modal";
import { Composer } from "./composer";
import { MessageList } from "./message_list";
import { NoticeList } from "./notice_list";

export function ChatPage() {
  const [client] = useState(createBrowserChatClient);
  const locale = useLocale();

  useEffect(() => {
    client.start();
    return () => client.stop();
  }, [client]);

  useEffect(() => {
    document.documentElement.lang = locale;
    client.localeChanged();
  }, [client, locale]);

  return (
    <ChatContext.Provider value={client}>
      <ChatLayout />
      <ApprovalModal />
    </ChatContext.Provider>
  );
}

function ChatLayout() {
  const modalOpen = useChatSelector((s) => selectPendingTool(s) !== null);
  const { scrollRef, contentRef, stick } = useStickToBottom<HTMLElement, HTMLDivElement>();

  return (
    <div className="flex h-dvh flex-col" inert={modalOpen} data-testid="chat-page">
      <AppHeader />
      <main ref={scrollRef} className="flex-1 overflow-y-auto" aria-labelledby="conversation-title">
        <div ref={contentRef} className="mx-auto w-full max-w-3xl px-4 pt-6 pb-10 sm:px-6">
          <h1 id="conversation-title" className="sr-only">
            Gatehouse
          </h1>
          <MessageList />
        </div>
      </main>
      <footer className="border-t border-zinc-200/70 bg-zinc-50/90 backdrop-blur dark:border-zinc-800/70 dark:bg-zinc-950/90">
        <div className="mx-auto w-full max-w-3xl space-y-3 px-4 pt-3 pb-4 sm:px-6">
          <NoticeList />
          <Composer onSent={stick} />
        </div>
      </footer>
    </div>
  );
}
