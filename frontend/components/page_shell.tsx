"use client";
import { useEffect, type ReactNode } from "react";
import type { PageName } from "@/lib/page_links";
import { useLocale } from "@/lib/use_preferences";
import { GateIcon } from "./icons";
import { LanguageSwitcher } from "./language_switcher";
import { PageNav } from "./page_nav";
import { ThemeToggle } from "./theme_toggle";

/** A page beside the chat (Rules, Activity): the header with the links, and its content. */
export function PageShell({ page, title, children }: { page: PageName; title: string; children: ReactNode }) {
  const locale = useLocale();
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = `${title} — Gatehouse`;
  }, [locale, title]);
  return (
    <div className="flex min-h-dvh flex-col">
      <header className="border-b border-zinc-200/70 bg-white/80 backdrop-blur dark:border-zinc-800/70 dark:bg-zinc-900/60">
        <div className="flex h-14 w-full items-center gap-3 px-3 sm:px-6">
          <span className="grid size-8 shrink-0 place-items-center rounded-lg bg-indigo-600 text-lg text-white" aria-hidden="true">
            <GateIcon />
          </span>
          <h1 className="min-w-0 truncate text-[15px] font-semibold tracking-tight">{title}</h1>
          <div className="ml-auto flex items-center gap-2">
            <PageNav current={page} />
            <LanguageSwitcher />
            <ThemeToggle />
          </div>
        </div>
      </header>
      <main className="mx-auto w-full max-w-5xl flex-1 px-4 py-6 sm:px-6">{children}</main>
    </div>
  );
}
