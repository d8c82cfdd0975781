"use client";
import { useState } from "react";
import { useT } from "@/lib/use_preferences";

/**
 * Claude's thinking: open while it streams, folded once the answer starts (and after a
 * reload); the person can open or fold it at any time.
 */
export function ThinkingBlock({ text, streaming }: { text: string; streaming: boolean }) {
  const t = useT();
  const [open, setOpen] = useState(streaming);
  const [wasStreaming, setWasStreaming] = useState(streaming);
  if (wasStreaming !== streaming) {
    // The answer started (or the thinking goes on): follow it, as React's derived state does.
    setWasStreaming(streaming);
    setOpen(streaming);
  }
  return (
    <details
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
      data-testid="thinking-block"
      data-streaming={streaming}
      className="group rounded-lg bg-zinc-50 text-sm ring-1 ring-zinc-200 ring-inset dark:bg-zinc-800/50 dark:ring-zinc-700"
    >
      <summary className="cursor-pointer list-none px-3 py-2 font-medium text-zinc-600 select-none focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-300">
        <span aria-hidden="true" className="mr-1.5 inline-block transition group-open:rotate-90">
          ›
        </span>
        {streaming ? t("thinking.streaming") : t("thinking.done")}
      </summary>
      <div
        data-testid="thinking-text"
        className="border-t border-zinc-200 px-3 py-2 whitespace-pre-wrap break-words text-zinc-500 dark:border-zinc-700 dark:text-zinc-400"
      >
        {text}
      </div>
    </details>
  );
}
