"use client";
import { useState } from "react";
import { useT } from "@/lib/use_preferences";
import { CheckIcon, CopyIcon } from "./icons";

/** Copy `text()` to the clipboard; the icon says when it worked. */
export function CopyButton({
  text,
  label,
  testId,
  className,
}: {
  text: () => string;
  label: string;
  testId: string;
  className: string;
}) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text());
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // Clipboard refused (insecure origin, permissions): nothing to undo.
    }
  };
  return (
    <button
      type="button"
      onClick={() => void copy()}
      aria-label={copied ? t("message.copied") : label}
      title={label}
      data-testid={testId}
      data-copied={copied || undefined}
      className={className}
    >
      {copied ? <CheckIcon /> : <CopyIcon />}
    </button>
  );
}
