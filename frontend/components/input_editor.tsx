"use client";
import { useId, useState } from "react";
import type { ToolCall } from "@/lib/chat_state";
import { editedInput, editForm, sameInput, type EditForm, type EditResult } from "@/lib/input_edit";
import { useT } from "@/lib/use_preferences";
import { WarningIcon } from "./icons";
import { Button } from "./ui/button";

const FIELD =
  "w-full rounded-md border border-zinc-300 bg-white px-2 py-1 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900";

/**
 * "Edit input" in the approval dialog: a path and a content for a call that names a file, the
 * JSON of any other. Reports the edit (null: none, or it changes nothing) to the dialog, which
 * sends it with the approval; the server's refusal (`invalid_edit`) shows here, and the editor
 * reopens with what was sent.
 */
export function InputEditor({
  call,
  onEdit,
}: {
  call: ToolCall;
  onEdit: (edit: EditResult | null) => void;
}) {
  const t = useT();
  const id = useId();
  const refusal = call.refusal ?? null;
  const [form, setForm] = useState<EditForm | null>(() =>
    call.sentInput ? editForm(call.sentInput) : null,
  );
  const result = form ? editedInput(call.input, form) : null;

  const change = (next: EditForm | null) => {
    setForm(next);
    const edit = next ? editedInput(call.input, next) : null;
    onEdit(edit && (!edit.ok || !sameInput(edit.input, call.input)) ? edit : null);
  };

  return (
    <div className="space-y-2" data-testid="input-editor">
      {refusal && (
        <p
          role="alert"
          data-testid="edit-refused"
          className="flex items-start gap-2.5 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/40 dark:text-rose-200"
        >
          <WarningIcon className="mt-0.5 shrink-0 text-base" />
          <span>
            <strong className="font-semibold">{t("edit.refused")}</strong> (
            <code>{refusal.code}</code>): {refusal.message}
          </span>
        </p>
      )}
      <Button variant="quiet" size="xs"
        onClick={() => change(form ? null : editForm(call.input))}
        aria-expanded={form !== null}
        data-testid="edit-input"
      >
        {form ? t("edit.discard") : t("edit.open")}
      </Button>
      {form?.kind === "file" && (
        <div className="space-y-2">
          <label className="block text-sm" htmlFor={`${id}-path`}>
            {t("edit.path")}
          </label>
          <input
            id={`${id}-path`}
            type="text"
            value={form.path}
            onChange={(event) => change({ ...form, path: event.target.value })}
            data-testid="edit-path"
            className={FIELD}
          />
          {form.content !== null && (
            <>
              <label className="block text-sm" htmlFor={`${id}-content`}>
                {t("edit.content")}
              </label>
              <textarea
                id={`${id}-content`}
                value={form.content}
                rows={10}
                spellCheck={false}
                onChange={(event) => change({ ...form, content: event.target.value })}
                data-testid="edit-content"
                className={FIELD}
              />
            </>
          )}
        </div>
      )}
      {form?.kind === "json" && (
        <div className="space-y-2">
          <label className="block text-sm" htmlFor={`${id}-json`}>
            {t("edit.json")}
          </label>
          <textarea
            id={`${id}-json`}
            value={form.text}
            rows={10}
            spellCheck={false}
            onChange={(event) => change({ kind: "json", text: event.target.value })}
            aria-invalid={result?.ok === false}
            data-testid="edit-json"
            className={FIELD}
          />
        </div>
      )}
      {result && !result.ok && (
        <p role="alert" data-testid="edit-error" className="text-sm text-rose-700 dark:text-rose-300">
          {t(`edit.error.${result.error}`)}
        </p>
      )}
      {result?.ok && !sameInput(result.input, call.input) && (
        <p data-testid="edit-note" className="text-xs text-zinc-500 dark:text-zinc-400">
          {t("edit.edited")}
        </p>
      )}
    </div>
  );
}
