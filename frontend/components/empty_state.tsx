"use client";
import { selectCanSend } from "@/lib/chat_state";
import type { MessageKey } from "@/lib/i18n";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { ShieldIcon } from "./icons";

const SUGGESTIONS: MessageKey[] = ["empty.suggestion1", "empty.suggestion2"];

export function EmptyState() {
  const t = useT();
  const client = useChatClient();
  const canSend = useChatSelector(selectCanSend);
  return (
    <section className="mx-auto flex max-w-xl flex-col items-center pt-[12vh] text-center" data-testid="empty-state">
      <span className="grid size-14 place-items-center rounded-2xl bg-indigo-50 text-3xl text-indigo-600 ring-1 ring-indigo-100 dark:bg-indigo-950/60 dark:text-indigo-300 dark:ring-indigo-900">
        <ShieldIcon />
      </span>
      <h2 className="mt-5 text-2xl font-semibold tracking-tight">{t("empty.title")}</h2>
      <p className="mt-2 text-zinc-600 dark:text-zinc-400">{t("empty.body")}</p>
      <div className="mt-8 grid w-full gap-3 sm:grid-cols-2">
        {SUGGESTIONS.map((key) => (
          <button
            key={key}
            type="button"
            disabled={!canSend}
            onClick={() => client.sendMessage(t(key))}
            className="rounded-xl border border-zinc-200 bg-white p-4 text-left text-sm text-zinc-700 shadow-xs transition hover:border-indigo-300 hover:shadow-md focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-60 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:border-indigo-700"
          >
            {t(key)}
          </button>
        ))}
      </div>
    </section>
  );
}
