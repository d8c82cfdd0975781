"use client";
// "Delete this conversation?": asked before the sidebar deletes one. Deleting the open
// conversation first moves the chat to a new one, so its socket never sees the deletion.
import { useCallback, useRef } from "react";
import type { ConversationSummary } from "@/lib/conversations_api";
import { useChatClient } from "@/lib/use_chat";
import { useConversationList, useConversationsSelector } from "@/lib/use_conversations";
import { useT } from "@/lib/use_preferences";
import { SIDEBAR_NAV_ID } from "./conversation_sidebar";
import { TrashIcon, WarningIcon } from "./icons";
import { Button } from "./ui/button";
import { Dialog } from "./ui/dialog";

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
  const cancelRef = useRef<HTMLButtonElement>(null);
  const cancel = useCallback(() => list.cancelDelete(), [list]);

  // Start on the harmless choice; when the dialog goes, put focus back where it makes sense:
  // the item's delete button (cancelled), else the conversation list (it was deleted).
  const returnFocus = useCallback(() => {
    const buttons = document.querySelectorAll<HTMLElement>("[data-delete-for]");
    return (
      Array.from(buttons).find((b) => b.dataset.deleteFor === item.id) ?? document.getElementById(SIDEBAR_NAV_ID)
    );
  }, [item.id]);

  const confirm = async () => {
    if (client.store.current.sessionId === item.id) client.newChat();
    await list.confirmDelete();
  };

  return (
    <Dialog
      role="alertdialog"
      testId="delete-dialog"
      title={t("delete.title")}
      description={t("delete.body", { title: item.title })}
      icon={
        <span className="grid size-10 shrink-0 place-items-center rounded-full bg-rose-100 text-lg text-rose-600 dark:bg-rose-950/60 dark:text-rose-300">
          <TrashIcon />
        </span>
      }
      onEscape={cancel}
      initialFocus={() => cancelRef.current}
      returnFocus={returnFocus}
      footer={
        <>
          <Button ref={cancelRef} onClick={cancel} disabled={deleting} data-testid="delete-cancel">
            {t("delete.cancel")}
          </Button>
          <Button
            variant="danger"
            onClick={() => void confirm()}
            disabled={deleting}
            data-testid="delete-confirm"
            className="disabled:cursor-wait"
          >
            {deleting ? t("delete.deleting") : t("delete.confirm")}
          </Button>
        </>
      }
    >
      {failed && (
        <p
          role="alert"
          data-testid="delete-failed"
          className="mx-6 mb-4 flex items-start gap-2 rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/50 dark:text-rose-200"
        >
          <WarningIcon className="mt-0.5 shrink-0" />
          {t("delete.failed")}
        </p>
      )}
    </Dialog>
  );
}
