"use client";
import { selectCanSend } from "@/lib/chat_state";
import { useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { EmptyState } from "./empty_state";
import { MessageBubble } from "./message_bubble";
import { TypingIndicator } from "./typing_indicator";

/**
 * Re-renders only when a message is added or sending opens or closes; each bubble follows its
 * own message.
 */
export function MessageList() {
  const ids = useChatSelector((s) => s.messageIds);
  const waiting = useChatSelector((s) => s.turnOpen && s.streamingId === null);
  const loading = useChatSelector((s) => s.awaitingHistory && s.connection !== "closed");
  const busy = useChatSelector((s) => !selectCanSend(s));
  if (ids.length === 0 && !waiting) return loading ? <HistoryLoading /> : <EmptyState />;
  return (
    <ol
      role="log"
      aria-live="polite"
      className="space-y-7"
      data-testid="message-list"
      data-busy={busy || undefined}
    >
      {ids.map((id) => (
        <MessageBubble key={id} id={id} />
      ))}
      {waiting && <TypingIndicator />}
    </ol>
  );
}

/** While a conversation's history is on its way: its shape, not the empty chat's welcome. */
function HistoryLoading() {
  const t = useT();
  return (
    <div role="status" aria-live="polite" data-testid="history-loading" className="space-y-7">
      <span className="sr-only">{t("history.loading")}</span>
      <div aria-hidden="true" className="flex justify-end">
        <div className="h-10 w-2/5 animate-pulse rounded-2xl rounded-br-md bg-indigo-100 dark:bg-indigo-950/60" />
      </div>
      <div aria-hidden="true" className="flex gap-3">
        <div className="size-8 shrink-0 animate-pulse rounded-full bg-zinc-200 dark:bg-zinc-800" />
        <div className="flex-1 space-y-2 pt-1">
          <div className="h-3.5 w-11/12 animate-pulse rounded bg-zinc-200 dark:bg-zinc-800" />
          <div className="h-3.5 w-4/5 animate-pulse rounded bg-zinc-200 dark:bg-zinc-800" />
          <div className="h-3.5 w-3/5 animate-pulse rounded bg-zinc-200 dark:bg-zinc-800" />
        </div>
      </div>
    </div>
  );
}
