"use client";
import { useChatSelector } from "@/lib/use_chat";
import { EmptyState } from "./empty_state";
import { MessageBubble } from "./message_bubble";
import { TypingIndicator } from "./typing_indicator";

/** Re-renders only when a message is added; each bubble follows its own message. */
export function MessageList() {
  const ids = useChatSelector((s) => s.messageIds);
  const waiting = useChatSelector((s) => s.turnOpen && s.streamingId === null);
  if (ids.length === 0 && !waiting) return <EmptyState />;
  return (
    <ol role="log" aria-live="polite" className="space-y-7" data-testid="message-list">
      {ids.map((id) => (
        <MessageBubble key={id} id={id} />
      ))}
      {waiting && <TypingIndicator />}
    </ol>
  );
}
