"use client";
// "Delete this conversation?": asked before the sidebar deletes one. Deleting the open
// conversation first moves the chat to a new one, so its socket never sees the deletion.
import { useCallback, useEffect, useId, useRef } from "react";
import type { ConversationSummary } from "@/lib/conversations_api";
import { useChatClient } from "@/lib/use_chat";
import { useConversationList, useConversationsSelector } from "@/lib/use_conversations";
import { useFocusTrap } from "@/lib/use_focus_trap";
import { useT } from "@/lib/use_preferences";
import { SIDEBAR_NAV_ID } from "./conversation_sidebar";
import { TrashIcon, WarningIcon } from "./icons";

export function DeleteConversationDialog() {
  const confirming = useConversationsSelector((s) => s.confirming);
  if (!confirming) return null;
  return <DeleteDialog key={confirming.id} item={confirming} />;
}

function DeleteDialog({ item }: { item: ConversationSummary }) {
  const t = useT();
  const client = useChatClient();
  const list = useConversationList();
  const deleting = useConversationsSelector((s) => s.deleting);
  const failed = useConversationsSelector((s) => s.deleteFailed);
  const titleId = useId();
  const descriptionId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const cancel = useCallback(() => list.cancelDelete(), [list]);
  useFocusTrap(ref, cancel);

  // Start on the harmless choice; when the dialog goes, put focus back where it makes sense:
  // the item's delete button (cancelled), else the conversation list (it was deleted).
  useEffect(() => {
    cancelRef.current?.focus();
    return () => {
      const buttons = document.querySelectorAll<HTMLElement>("[data-delete-for]");
      const back =
        Array.from(buttons).find((b) => b.dataset.deleteFor === item.id) ??
        document.getElementById(SIDEBAR_NAV_ID);
      back?.focus();
    };
  }, [item.id]);

  const confirm = async () => {
    if (client.store.current.sessionId === item.id) client.newChat();
    await list.confirmDelete();
  };

  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-zinc-950/30 sm:items-center sm:p-6 dark:bg-black/50">
      <div
        ref={ref}
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descriptionId}
        tabIndex={-1}
        data-testid="delete-dialog"
        className="w-full max-w-md overflow-hidden rounded-t-2xl bg-white shadow-2xl ring-1 ring-zinc-900/10 outline-none sm:rounded-2xl dark:bg-zinc-900 dark:ring-white/10"
      >
        <div className="flex items-start gap-4 px-6 pt-5 pb-4">
          <span className="grid size-10 shrink-0 place-items-center rounded-full bg-rose-100 text-lg text-rose-600 dark:bg-rose-950/60 dark:text-rose-300">
            <TrashIcon />
          </span>
          <div className="min-w-0">
            <h2 id={titleId} className="text-lg font-semibold tracking-tight">
              {t("delete.title")}
            </h2>
            <p id={descriptionId} className="mt-1 text-sm break-words text-zinc-600 dark:text-zinc-400">
              {t("delete.body", { title: item.title })}
            </p>
            {failed && (
              <p
                role="alert"
                data-testid="delete-failed"
                className="mt-3 flex items-start gap-2 rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/50 dark:text-rose-200"
              >
                <WarningIcon className="mt-0.5 shrink-0" />
                {t("delete.failed")}
              </p>
            )}
          </div>
        </div>
        <div className="flex flex-col-reverse gap-3 border-t border-zinc-100 bg-zinc-50/80 px-6 py-4 sm:flex-row sm:justify-end dark:border-zinc-800 dark:bg-zinc-950/40">
          <button
            ref={cancelRef}
            type="button"
            onClick={cancel}
            disabled={deleting}
            data-testid="delete-cancel"
            className="h-10 rounded-lg border border-zinc-300 bg-white px-4 text-sm font-semibold text-zinc-800 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800"
          >
            {t("delete.cancel")}
          </button>
          <button
            type="button"
            onClick={() => void confirm()}
            disabled={deleting}
            data-testid="delete-confirm"
            className="h-10 rounded-lg bg-rose-600 px-5 text-sm font-semibold text-white shadow-sm shadow-rose-600/30 transition hover:bg-rose-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-500 disabled:cursor-wait disabled:opacity-70"
          >
            {deleting ? t("delete.deleting") : t("delete.confirm")}
          </button>
        </div>
      </div>
    </div>
  );
}
