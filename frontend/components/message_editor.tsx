"use client";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useT } from "@/lib/use_preferences";
import { Button } from "./ui/button";

/** The person's message, open for a new version: Save & send branches from it; Escape cancels. */
export function MessageEditor({
  text,
  onSave,
  onCancel,
}: {
  text: string;
  onSave: (text: string) => void;
  onCancel: () => void;
}) {
  const t = useT();
  const [draft, setDraft] = useState(text);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    area.current?.focus();
    area.current?.select();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    }
  };
  return (
    <form
      className="flex w-full max-w-[85%] flex-col gap-2"
      data-testid="message-editor"
      onSubmit={(event) => {
        event.preventDefault();
        if (draft.trim()) onSave(draft);
      }}
    >
      <textarea
        ref={area}
        value={draft}
        aria-label={t("message.editLabel")}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
        rows={Math.min(8, Math.max(2, draft.split("\n").length))}
        className="w-full resize-y rounded-xl border border-zinc-300 bg-white px-3 py-2 text-[15px] text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
      />
      <div className="flex justify-end gap-2">
        <button
          type="button"
          onClick={onCancel}
          className="rounded-md px-2.5 py-1 text-sm text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
        >
          {t("message.cancelEdit")}
        </button>
        <Button variant="primary" size="xs"
          type="submit"
          disabled={!draft.trim()}
        >
          {t("message.saveAndSend")}
        </Button>
      </div>
    </form>
  );
}
