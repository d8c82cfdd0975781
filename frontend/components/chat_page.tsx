"use client";
// The chat page: one ChatClient and one conversation list for the page's life, the layout
// (sidebar + chat), and the dialogs (tool approval, delete confirmation).
import { useCallback, useEffect, useRef, useState } from "react";
import {
  createBrowserChatClient,
  createBrowserConversationList,
  createBrowserModelsApi,
} from "@/lib/browser_client";
import { selectPendingTool } from "@/lib/chat_state";
import type { ModelsApi } from "@/lib/models_api";
import { ChatContext, useChatSelector } from "@/lib/use_chat";
import { ConversationsContext, useConversationsSelector } from "@/lib/use_conversations";
import { useMediaQuery, WIDE_QUERY } from "@/lib/use_media_query";
import { useLocale } from "@/lib/use_preferences";
import { useStickToBottom } from "@/lib/use_stick_to_bottom";
import { AppHeader } from "./app_header";
import { ApprovalAttention } from "./approval_attention";
import { ApprovalModal } from "./approval_modal";
import { Composer } from "./composer";
import { ConversationSidebar } from "./conversation_sidebar";
import { DeleteConversationDialog } from "./delete_conversation_dialog";
import { KeyboardShortcuts } from "./keyboard_shortcuts";
import { FilesPanel } from "./files_panel";
import { MessageList } from "./message_list";
import { NoticeList } from "./notice_list";
import { ReplySettings } from "./reply_settings";

export function ChatPage() {
  const [client] = useState(createBrowserChatClient);
  const [conversations] = useState(createBrowserConversationList);
  const [models] = useState(createBrowserModelsApi);
  const locale = useLocale();

  useEffect(() => {
    client.start();
    return () => client.stop();
  }, [client]);

  useEffect(() => {
    void conversations.refresh();
    const unfollow = conversations.follow(client.store);
    // Another tab may have written or deleted meanwhile.
    const onFocus = () => void conversations.refresh();
    window.addEventListener("focus", onFocus);
    return () => {
      unfollow();
      window.removeEventListener("focus", onFocus);
    };
  }, [client, conversations]);

  useEffect(() => {
    document.documentElement.lang = locale; // the words change in place; the socket stays
  }, [locale]);

  return (
    <ChatContext.Provider value={client}>
      <ConversationsContext.Provider value={conversations}>
        <ChatLayout models={models} />
        <ApprovalModal />
        <ApprovalAttention />
        <DeleteConversationDialog />
        <KeyboardShortcuts />
      </ConversationsContext.Provider>
    </ChatContext.Provider>
  );
}

function ChatLayout({ models }: { models: ModelsApi }) {
  const modalOpen = useChatSelector((s) => selectPendingTool(s) !== null);
  const confirming = useConversationsSelector((s) => s.confirming !== null);
  const { scrollRef, contentRef, stick } = useStickToBottom<HTMLElement, HTMLDivElement>();
  const wide = useMediaQuery(WIDE_QUERY);
  const [drawer, setDrawer] = useState(false);
  const [filesOpen, setFilesOpen] = useState(false);
  // On wide screens the sidebar is always there: the drawer state only matters below `lg`.
  const drawerOpen = drawer && !wide;
  const menuRef = useRef<HTMLButtonElement>(null);
  const filesRef = useRef<HTMLButtonElement>(null);
  const drawerRef = useRef<HTMLDivElement>(null);

  const closeDrawer = useCallback(() => setDrawer(false), []);
  const openDrawer = useCallback(() => setDrawer(true), []);

  // Focus moves into the drawer when it opens, and back to the menu button when it closes
  // (unless the person already put it somewhere else, e.g. in a conversation they opened).
  const wasOpen = useRef(false);
  useEffect(() => {
    if (drawerOpen) {
      drawerRef.current?.focus();
    } else if (wasOpen.current) {
      const active = document.activeElement;
      if (!active || active === document.body || drawerRef.current?.contains(active)) {
        menuRef.current?.focus();
      }
    }
    wasOpen.current = drawerOpen;
  }, [drawerOpen]);

  return (
    <>
    <div className="flex h-dvh" inert={modalOpen || confirming || filesOpen} data-testid="chat-page">
      {drawerOpen && (
        <div
          aria-hidden="true"
          data-testid="sidebar-backdrop"
          onClick={closeDrawer}
          className="fixed inset-0 z-30 bg-zinc-950/40 lg:hidden dark:bg-black/60"
        />
      )}
      <div
        id="conversation-sidebar"
        ref={drawerRef}
        tabIndex={-1}
        onKeyDown={(event) => {
          if (event.key === "Escape" && drawerOpen) {
            event.preventDefault();
            closeDrawer();
          }
        }}
        className={`fixed inset-y-0 left-0 z-40 w-72 max-w-[85vw] border-r border-zinc-200/70 bg-white outline-none duration-200 ease-out lg:static lg:visible lg:z-auto lg:max-w-none lg:translate-x-0 lg:shrink-0 dark:border-zinc-800/70 dark:bg-zinc-900 ${
          // Shown at once when opening (so it can take focus), hidden only once it has slid away.
          drawerOpen
            ? "visible translate-x-0 shadow-2xl transition-[translate]"
            : "invisible -translate-x-full transition-[translate,visibility]"
        }`}
      >
        <ConversationSidebar onNavigate={closeDrawer} onClose={closeDrawer} />
      </div>

      <div className="flex min-w-0 flex-1 flex-col" inert={drawerOpen}>
        <AppHeader
          menuOpen={drawerOpen}
          onMenu={openDrawer}
          menuRef={menuRef}
          onFiles={() => setFilesOpen(true)}
          filesRef={filesRef}
        />
        <main ref={scrollRef} className="flex-1 overflow-y-auto" aria-labelledby="conversation-title">
          <div ref={contentRef} className="mx-auto w-full max-w-3xl px-4 pt-6 pb-10 sm:px-6">
            <MessageList />
          </div>
        </main>
        <footer className="border-t border-zinc-200/70 bg-zinc-50/90 backdrop-blur dark:border-zinc-800/70 dark:bg-zinc-950/90">
          <div className="mx-auto w-full max-w-3xl space-y-3 px-4 pt-3 pb-4 sm:px-6">
            <NoticeList />
            <ReplySettings api={models} />
            <Composer onSent={stick} />
          </div>
        </footer>
      </div>
    </div>
    {filesOpen && <FilesPanel onClose={() => setFilesOpen(false)} returnFocus={() => filesRef.current} />}
    </>
  );
}
