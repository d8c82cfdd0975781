"use client";
import type { Ref } from "react";
import { useMemo } from "react";
import type { ChatState } from "@/lib/chat_state";
import { totalUsage } from "@/lib/usage";
import { useChatSelector } from "@/lib/use_chat";
import { useConversationsSelector } from "@/lib/use_conversations";
import { useT } from "@/lib/use_preferences";
import { GateIcon, MenuIcon } from "./icons";
import { LanguageSwitcher } from "./language_switcher";
import { PageNav } from "./page_nav";
import { SoundToggle } from "./sound_toggle";
import { StatusBadge } from "./status_badge";
import { ThemeToggle } from "./theme_toggle";
import { UsageTotal } from "./usage_line";

/** What the server will call the conversation: its first message, until the list says. */
function firstUserText(state: ChatState): string | null {
  for (const id of state.messageIds) {
    const message = state.messages[id];
    if (message?.role === "user") return message.text;
  }
  return null;
}

export function AppHeader({
  menuOpen,
  onMenu,
  menuRef,
  onFiles,
  filesRef,
}: {
  menuOpen: boolean;
  onMenu: () => void;
  menuRef?: Ref<HTMLButtonElement>;
  onFiles?: () => void;
  filesRef?: Ref<HTMLButtonElement>;
}) {
  const t = useT();
  const sessionId = useChatSelector((s) => s.sessionId);
  const firstText = useChatSelector(firstUserText);
  const listedTitle = useConversationsSelector(
    (s) => s.items.find((item) => item.id === sessionId)?.title ?? null,
  );
  const title = listedTitle ?? firstText?.split(/\s+/).join(" ") ?? t("header.newChat");
  const messages = useChatSelector((s) => s.messages);
  const messageIds = useChatSelector((s) => s.messageIds);
  const usage = useMemo(
    () => totalUsage(messageIds.flatMap((id) => messages[id] ?? [])),
    [messages, messageIds],
  );

  return (
    <header className="border-b border-zinc-200/70 bg-white/80 backdrop-blur dark:border-zinc-800/70 dark:bg-zinc-900/60">
      <div className="flex h-14 w-full items-center gap-3 px-3 sm:px-6">
        <button
          ref={menuRef}
          type="button"
          onClick={onMenu}
          aria-label={t("sidebar.open")}
          title={t("sidebar.open")}
          aria-expanded={menuOpen}
          aria-controls="conversation-sidebar"
          data-testid="sidebar-toggle"
          className="grid size-8 shrink-0 place-items-center rounded-lg text-lg text-zinc-600 transition hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-indigo-500 lg:hidden dark:text-zinc-300 dark:hover:bg-zinc-800"
        >
          <MenuIcon />
        </button>
        <span
          className="hidden size-8 shrink-0 place-items-center rounded-lg bg-indigo-600 text-lg text-white shadow-sm shadow-indigo-600/30 max-lg:sm:grid"
          title="Gatehouse"
          aria-hidden="true"
        >
          <GateIcon />
        </span>
        {/* On phones the header has no room for it: there it is for screen readers only. */}
        <h1
          id="conversation-title"
          title={title}
          data-testid="conversation-heading"
          className="min-w-0 truncate text-[15px] font-semibold tracking-tight max-sm:sr-only"
        >
          {title}
        </h1>
        <div className="ml-auto flex min-w-0 items-center gap-2 sm:shrink-0">
          {usage && <UsageTotal usage={usage} />}
          <StatusBadge />
          {onFiles && (
            <button
              ref={filesRef}
              type="button"
              onClick={onFiles}
              data-testid="files-open"
              className="rounded-lg px-2.5 py-1 text-sm font-medium text-zinc-600 transition hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-300 dark:hover:bg-zinc-800"
            >
              {t("files.open")}
            </button>
          )}
          {/* no room on phones beside the title: there /rules and /activity are opened by URL */}
          <PageNav current="chat" className="hidden md:flex" />
          <LanguageSwitcher />
          <SoundToggle />
          <ThemeToggle />
        </div>
      </div>
    </header>
  );
}
