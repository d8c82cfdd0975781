"use client";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { GateIcon, PlusIcon } from "./icons";
import { LanguageSwitcher } from "./language_switcher";
import { StatusBadge } from "./status_badge";
import { ThemeToggle } from "./theme_toggle";

export function AppHeader() {
  const t = useT();
  const client = useChatClient();
  const turnOpen = useChatSelector((s) => s.turnOpen);
  const empty = useChatSelector((s) => s.messageIds.length === 0);

  return (
    <header className="border-b border-zinc-200/70 bg-white/80 backdrop-blur dark:border-zinc-800/70 dark:bg-zinc-900/60">
      <div className="mx-auto flex h-14 w-full max-w-5xl items-center gap-3 px-4 sm:px-6">
        <div className="flex shrink-0 items-center gap-2.5 sm:min-w-0 sm:shrink" title="Gatehouse">
          <span className="grid size-8 shrink-0 place-items-center rounded-lg bg-indigo-600 text-lg text-white shadow-sm shadow-indigo-600/30">
            <GateIcon />
          </span>
          <div className="hidden min-w-0 leading-tight sm:block">
            <p className="font-semibold tracking-tight">Gatehouse</p>
            <p className="hidden truncate text-xs text-zinc-500 md:block dark:text-zinc-400">
              {t("app.tagline")}
            </p>
          </div>
        </div>
        <div className="ml-auto flex min-w-0 items-center gap-2">
          <StatusBadge />
          <button
            type="button"
            onClick={() => client.newChat()}
            disabled={turnOpen || empty}
            data-testid="new-chat"
            className="inline-flex h-8 items-center gap-1.5 rounded-lg border border-zinc-200 bg-white px-2.5 text-sm font-medium text-zinc-700 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200 dark:hover:bg-zinc-800"
          >
            <PlusIcon />
            <span className="hidden sm:inline">{t("header.newChat")}</span>
            <span className="sr-only sm:hidden">{t("header.newChat")}</span>
          </button>
          <LanguageSwitcher />
          <ThemeToggle />
        </div>
      </div>
    </header>
  );
}
