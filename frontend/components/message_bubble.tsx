"use client";
import { memo } from "react";
import type { AssistantChatMessage, UserChatMessage } from "@/lib/chat_state";
import { useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { AssistantAvatar } from "./assistant_avatar";
import { AssistantPartView } from "./assistant_part_view";

export const MessageBubble = memo(function MessageBubble({ id }: { id: string }) {
  const message = useChatSelector((s) => s.messages[id]);
  if (!message) return null;
  return message.role === "user" ? (
    <UserBubble message={message} />
  ) : (
    <AssistantBubble message={message} />
  );
});

function UserBubble({ message }: { message: UserChatMessage }) {
  const t = useT();
  return (
    <li className="flex justify-end" data-testid="message-user">
      <span className="sr-only">{t("message.you")}: </span>
      <div
        data-testid="message-content"
        className="max-w-[85%] rounded-2xl rounded-br-md bg-indigo-600 px-4 py-2.5 text-[15px] leading-relaxed whitespace-pre-wrap break-words text-white shadow-sm shadow-indigo-600/20"
      >
        {message.text}
      </div>
    </li>
  );
}

function AssistantBubble({ message }: { message: AssistantChatMessage }) {
  const t = useT();
  const last = message.parts.length - 1;
  return (
    <li
      className="flex gap-3"
      data-testid="message-assistant"
      data-streaming={message.streaming}
      aria-busy={message.streaming}
    >
      <AssistantAvatar />
      <span className="sr-only">{t("message.assistant")}: </span>
      <div className="min-w-0 flex-1 space-y-3 pt-0.5" data-testid="message-content">
        {message.parts.map((part, index) => (
          <AssistantPartView
            key={index}
            part={part}
            streaming={message.streaming && index === last}
          />
        ))}
        {message.reason === "cancelled" && (
          <p className="text-sm text-zinc-500 italic dark:text-zinc-400">{t("message.cancelled")}</p>
        )}
      </div>
    </li>
  );
}
