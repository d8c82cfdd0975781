"use client";
import { useRef, useState, type ReactNode } from "react";
import { useT } from "@/lib/use_preferences";
import { CheckIcon, CopyIcon } from "./icons";

export function CodeBlock({ children }: { children: ReactNode }) {
  const t = useT();
  const ref = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);

  const copy = async () => {
    const text = ref.current?.textContent ?? "";
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (insecure origin, permissions): nothing to undo.
    }
  };

  return (
    <div className="group relative">
      <pre ref={ref}>{children}</pre>
      <button
        type="button"
        onClick={copy}
        aria-label={copied ? t("message.copied") : t("message.copy")}
        className="absolute top-2 right-2 grid size-7 place-items-center rounded-md border border-zinc-200 bg-white/90 text-zinc-500 opacity-0 transition group-hover:opacity-100 hover:text-zinc-900 focus-visible:opacity-100 dark:border-zinc-700 dark:bg-zinc-800/90 dark:text-zinc-400 dark:hover:text-zinc-100"
      >
        {copied ? <CheckIcon /> : <CopyIcon />}
      </button>
    </div>
  );
}
