"use client";
import { useCallback, useId, useRef, useState, type ReactNode } from "react";
import { APPROVAL_DIALOG_ID } from "@/lib/attention";
import type { DecisionOptions, DecisionScope } from "@/lib/chat_client";
import type { ToolCall } from "@/lib/chat_state";
import { formatBytes } from "@/lib/format";
import { useFocusTrap } from "@/lib/use_focus_trap";
import { useLocale, useT } from "@/lib/use_preferences";
import { ApprovalDetail as Detail } from "./approval_detail";
import { ContentPreview } from "./content_preview";
import { DiffView } from "./diff_view";
import { VisiblePath } from "./visible_path";
import { DecisionControls } from "./decision_controls";
import { InputEditor } from "./input_editor";
import { resentEdit, type EditResult } from "@/lib/input_edit";
import { ShieldIcon, WarningIcon } from "./icons";
import { DestructiveWarning, ToolHintBadges } from "./tool_hints";

export function ApprovalDialog({
  call,
  queued,
  queue = null,
  onDecide,
}: {
  call: ToolCall;
  queued: number;
  /** The list of every waiting call, when several wait (components/approval_queue.tsx). */
  queue?: ReactNode;
  onDecide: (approved: boolean, options?: DecisionOptions) => void;
}) {
  const [scope, setScope] = useState<DecisionScope>("once");
  const [pathGlob, setPathGlob] = useState(call.proposedGlob ?? "");
  const [reason, setReason] = useState("");
  const [edit, setEdit] = useState<EditResult | null>(() => resentEdit(call));
  const options = (): DecisionOptions => ({
    scope,
    pathGlob: pathGlob.trim() || undefined,
    reason,
    input: edit?.ok ? edit.input : undefined,
  });
  const t = useT();
  const locale = useLocale();
  const titleId = useId();
  const descriptionId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const dismiss = useCallback(() => onDecide(false), [onDecide]);
  // Once decided, focus goes to the call's card in the reply, where its outcome shows.
  const toolCard = useCallback(
    () => document.querySelector<HTMLElement>(`[data-tool-id="${CSS.escape(call.id)}"]`),
    [call.id],
  );
  useFocusTrap(ref, dismiss, toolCard);
  const deny = () => onDecide(false, options());

  const preview = call.preview;
  const content = typeof call.input.content === "string" ? call.input.content : null;
  const invalid = preview !== null && !preview.valid_path;

  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-zinc-950/30 p-0 sm:items-start sm:px-6 sm:pt-16 dark:bg-black/50">
      <div
        ref={ref}
        id={APPROVAL_DIALOG_ID}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descriptionId}
        tabIndex={-1}
        onKeyDown={(event) => {
          if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !invalid) {
            event.preventDefault();
            onDecide(true, options());
          }
        }}
        data-testid="approval-modal"
        className="flex max-h-[92dvh] w-full max-w-2xl flex-col sm:max-h-[calc(100dvh-8rem)] overflow-hidden rounded-t-2xl bg-white shadow-2xl ring-1 ring-zinc-900/10 outline-none sm:rounded-2xl dark:bg-zinc-900 dark:ring-white/10"
      >
        <div className="flex items-start gap-4 px-6 pt-5">
          <span className="grid size-10 shrink-0 place-items-center rounded-full bg-amber-100 text-xl text-amber-700 dark:bg-amber-900/50 dark:text-amber-300">
            <ShieldIcon />
          </span>
          <div className="min-w-0">
            <h2 id={titleId} className="text-lg font-semibold tracking-tight">
              {t("approval.title")}
            </h2>
            <p id={descriptionId} className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">
              {t("approval.description")}
              {queued > 0 && !queue && (
                <span className="ml-2 rounded-full bg-zinc-100 px-2 py-0.5 text-xs font-medium dark:bg-zinc-800">
                  {t("approval.queue", { n: queued })}
                </span>
              )}
            </p>
            <ToolHintBadges call={call} />
          </div>
        </div>
        <DestructiveWarning call={call} />
        {queue}

        <div className="min-h-0 flex-1 space-y-4 overflow-y-auto px-6 py-4">
          <dl
            className={`grid grid-cols-2 gap-px overflow-hidden rounded-xl bg-zinc-200 text-sm ring-1 ring-zinc-200 dark:bg-zinc-800 dark:ring-zinc-800 ${preview ? "sm:grid-cols-3" : ""}`}
          >
            <Detail label={t("approval.tool")} testId="approval-tool" mono>
              {call.name}
            </Detail>
            <Detail label={t("approval.server")} testId="approval-server" mono>
              {call.server}
            </Detail>
            {preview && (
              <>
                <Detail
                  label={t("approval.size")}
                  testId="approval-size"
                  title={`${preview.bytes} B`}
                  className="col-span-full sm:col-span-1"
                >
                  {formatBytes(preview.bytes, locale)}
                </Detail>
                <Detail label={t("approval.path")} testId="approval-path" full mono>
                  <VisiblePath path={preview.path} />
                </Detail>
              </>
            )}
          </dl>

          {preview?.overwrite && (
            <p
              data-testid="approval-overwrite"
              className="flex items-start gap-2.5 rounded-xl border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-900/70 dark:bg-amber-950/40 dark:text-amber-200"
            >
              <WarningIcon className="mt-0.5 shrink-0 text-base" />
              {t("approval.overwrite")}
            </p>
          )}
          {invalid && (
            <p
              data-testid="approval-problem"
              className="flex items-start gap-2.5 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/40 dark:text-rose-200"
            >
              <WarningIcon className="mt-0.5 shrink-0 text-base" />
              <span>
                <strong className="font-semibold">{t("approval.invalidPath")}</strong>
                {preview.problem ? `: ${preview.problem}` : null}
              </span>
            </p>
          )}

          {preview?.diff && <DiffView diff={preview.diff} path={preview.path} />}
          {preview?.diff && !preview.diff.skipped ? null : content !== null ? (
            <ContentPreview label={t("approval.preview")} text={content} path={preview?.path ?? null} />
          ) : (
            <ContentPreview label={t("approval.input")} text={JSON.stringify(call.input, null, 2)} path="input.json" />
          )}
          <InputEditor call={call} onEdit={setEdit} />
        </div>

        <DecisionControls
          scope={scope}
          onScope={setScope}
          pathGlob={pathGlob}
          onPathGlob={call.proposedGlob ? setPathGlob : null}
          reason={reason}
          onReason={setReason}
        />

        <div className="flex flex-col-reverse gap-3 border-t border-zinc-100 bg-zinc-50/80 px-6 py-4 sm:flex-row sm:items-center dark:border-zinc-800 dark:bg-zinc-950/40">
          <p className="text-xs text-zinc-500 sm:mr-auto dark:text-zinc-400">
            <kbd className="rounded border border-zinc-300 bg-white px-1.5 py-0.5 font-sans text-[11px] dark:border-zinc-700 dark:bg-zinc-800">
              Esc
            </kbd>{" "}
            {t("approval.escHint")} ·{" "}
            <kbd className="rounded border border-zinc-300 bg-white px-1.5 py-0.5 font-sans text-[11px] dark:border-zinc-700 dark:bg-zinc-800">
              Ctrl+Enter
            </kbd>{" "}
            {t("approval.modEnterHint")}
          </p>
          <button
            type="button"
            onClick={deny}
            data-testid="deny-button"
            className="h-10 rounded-lg border border-zinc-300 bg-white px-4 text-sm font-semibold text-zinc-800 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800"
          >
            {t("approval.deny")}
          </button>
          <button
            type="button"
            onClick={() => onDecide(true, options())}
            disabled={invalid || edit?.ok === false}
            data-testid="approve-button"
            className="h-10 rounded-lg bg-indigo-600 px-5 text-sm font-semibold text-white shadow-sm shadow-indigo-600/30 transition hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:bg-zinc-300 disabled:shadow-none dark:disabled:bg-zinc-700"
          >
            {t("approval.approve")}
          </button>
        </div>
      </div>
    </div>
  );
}
