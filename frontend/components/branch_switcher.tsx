"use client";
import { selectCanSend } from "@/lib/chat_state";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import type { Branch } from "@/lib/ws_events";
import { ChevronLeftIcon, ChevronRightIcon } from "./icons";

const STEP_CLASS =
  "grid size-6 place-items-center rounded-md text-zinc-500 hover:bg-zinc-100 hover:text-zinc-800 disabled:opacity-40 disabled:hover:bg-transparent focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-zinc-800 dark:hover:text-zinc-100";

/** `< 1/2 >` at a message with alternatives (its edits, or a reply's retries). */
export function BranchSwitcher({ branch }: { branch: Branch }) {
  const t = useT();
  const client = useChatClient();
  const canSend = useChatSelector(selectCanSend);
  const go = (index: number) => {
    const sibling = branch.siblings[index];
    if (sibling !== undefined) client.switchBranch(sibling);
  };
  const shown = { index: String(branch.index + 1), count: String(branch.count) };
  return (
    <div
      className="inline-flex items-center gap-0.5 text-xs text-zinc-500 tabular-nums dark:text-zinc-400"
      data-testid="branch-switcher"
    >
      <button
        type="button"
        className={STEP_CLASS}
        aria-label={t("message.previousBranch")}
        disabled={!canSend || branch.index === 0}
        onClick={() => go(branch.index - 1)}
      >
        <ChevronLeftIcon />
      </button>
      <span aria-label={t("message.branch", shown)} data-testid="branch-position">
        {shown.index}/{shown.count}
      </span>
      <button
        type="button"
        className={STEP_CLASS}
        aria-label={t("message.nextBranch")}
        disabled={!canSend || branch.index >= branch.count - 1}
        onClick={() => go(branch.index + 1)}
      >
        <ChevronRightIcon />
      </button>
    </div>
  );
}
