"use client";
import { useT } from "@/lib/use_preferences";
import { AssistantAvatar } from "./assistant_avatar";

export function TypingIndicator() {
  const t = useT();
  return (
    <li className="flex gap-3" data-testid="typing-indicator">
      <AssistantAvatar />
      <div
        className="flex h-9 items-center gap-1 rounded-2xl bg-white px-3.5 ring-1 ring-zinc-200 dark:bg-zinc-900 dark:ring-zinc-800"
        aria-label={t("status.streaming")}
      >
        {[0, 150, 300].map((delay) => (
          <span
            key={delay}
            className="size-1.5 animate-bounce rounded-full bg-zinc-400"
            style={{ animationDelay: `${delay}ms` }}
          />
        ))}
      </div>
    </li>
  );
}
