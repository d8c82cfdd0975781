"use client";
import { useRef, type ReactNode } from "react";
import { useT } from "@/lib/use_preferences";
import { CopyButton } from "./copy_button";

export function CodeBlock({ children }: { children: ReactNode }) {
  const t = useT();
  const ref = useRef<HTMLPreElement>(null);
  return (
    <div className="group relative">
      <pre ref={ref}>{children}</pre>
      <CopyButton
        text={() => ref.current?.textContent ?? ""}
        label={t("message.copy")}
        testId="copy-code"
        className="absolute top-2 right-2 grid size-7 place-items-center rounded-md border border-zinc-200 bg-white/90 text-zinc-500 opacity-0 transition group-hover:opacity-100 hover:text-zinc-900 focus-visible:opacity-100 dark:border-zinc-700 dark:bg-zinc-800/90 dark:text-zinc-400 dark:hover:text-zinc-100"
      />
    </div>
  );
}
