"use client";
import { useCallback, useState, type ReactNode } from "react";
import { APPROVAL_DIALOG_ID } from "@/lib/attention";
import type { DecisionOptions, DecisionScope } from "@/lib/chat_client";
import type { ToolCall } from "@/lib/chat_state";
import { formatBytes } from "@/lib/format";
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
import { Button } from "./ui/button";
import { Dialog } from "./ui/dialog";

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
  const dismiss = useCallback(() => onDecide(false), [onDecide]);
  // Once decided, focus goes to the call's card in the reply, where its outcome shows.
  const toolCard = useCallback(
    () => document.querySelector<HTMLElement>(`[data-tool-id="${CSS.escape(call.id)}"]`),
    [call.id],
  );
  const deny = () => onDecide(false, options());

  const preview = call.preview;
  const content = typeof call.input.content === "string" ? call.input.content : null;
  const invalid = preview !== null && !preview.valid_path;

  return (
    <Dialog
      id={APPROVAL_DIALOG_ID}
      testId="approval-modal"
      placement="top"
      size="max-h-[92dvh] max-w-2xl sm:max-h-[calc(100dvh-8rem)]"
      title={t("approval.title")}
      description={
        <>
          {t("approval.description")}
          {queued > 0 && !queue && (
            <span className="ml-2 rounded-full bg-zinc-100 px-2 py-0.5 text-xs font-medium dark:bg-zinc-800">
              {t("approval.queue", { n: queued })}
            </span>
          )}
        </>
      }
      headerExtra={<ToolHintBadges call={call} />}
      icon={
        <span className="grid size-10 shrink-0 place-items-center rounded-full bg-amber-100 text-xl text-amber-700 dark:bg-amber-900/50 dark:text-amber-300">
          <ShieldIcon />
        </span>
      }
      onEscape={dismiss}
      returnFocus={toolCard}
      onKeyDown={(event) => {
        if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && !invalid) {
          event.preventDefault();
          onDecide(true, options());
        }
      }}
      footer={
        <>
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
          <Button onClick={deny} data-testid="deny-button">
            {t("approval.deny")}
          </Button>
          <Button
            variant="primary"
            onClick={() => onDecide(true, options())}
            disabled={invalid || edit?.ok === false}
            data-testid="approve-button"
          >
            {t("approval.approve")}
          </Button>
        </>
      }
    >
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
    </Dialog>
  );
}
