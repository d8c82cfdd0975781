"use client";
// Several calls at once (parallel tool use): every waiting call listed in the dialog, each
// with its own decision, and "approve all" / "deny all" beside them.
import type { ToolCall } from "@/lib/chat_state";
import { declaredDestructive } from "@/lib/tool_hints";
import { useT } from "@/lib/use_preferences";
import { VisiblePath } from "./visible_path";
import { Button } from "./ui/button";

function canApprove(call: ToolCall): boolean {
  return call.preview === null || call.preview.valid_path;
}

export function ApprovalQueue({
  calls,
  shownId,
  onShow,
  onDecide,
  onDecideAll,
}: {
  calls: ToolCall[];
  shownId: string;
  onShow: (id: string) => void;
  onDecide: (id: string, approved: boolean) => void;
  onDecideAll: (approved: boolean) => void;
}) {
  const t = useT();
  return (
    <section
      data-testid="approval-queue"
      aria-label={t("approval.several", { n: calls.length })}
      className="mx-6 mt-3 rounded-xl ring-1 ring-zinc-200 dark:ring-zinc-800"
    >
      <div className="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
        <p className="mr-auto text-sm font-medium">{t("approval.several", { n: calls.length })}</p>
        <Button variant="secondary" size="xs"
          onClick={() => onDecideAll(false)}
          data-testid="deny-all-button"
        >
          {t("approval.denyAll")}
        </Button>
        <Button variant="primary" size="xs"
          onClick={() => onDecideAll(true)}
          disabled={!calls.some(canApprove)}
          data-testid="approve-all-button"
        >
          {t("approval.approveAll")}
        </Button>
      </div>
      <ol className="max-h-40 divide-y divide-zinc-100 overflow-y-auto dark:divide-zinc-800">
        {calls.map((call) => (
          <li
            key={call.id}
            data-testid="approval-queue-item"
            data-tool-use-id={call.id}
            aria-current={call.id === shownId ? "true" : undefined}
            className={`flex items-center gap-2 px-3 py-1.5 text-[13px] ${call.id === shownId ? "bg-indigo-50 dark:bg-indigo-950/40" : ""}`}
          >
            <button
              type="button"
              onClick={() => onShow(call.id)}
              aria-label={t("approval.show", { name: call.name })}
              className="min-w-0 flex-1 truncate text-left font-mono hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500"
            >
              {declaredDestructive(call.annotations) && (
                <span className="mr-1.5 rounded-full bg-rose-100 px-1.5 font-sans text-[11px] font-medium text-rose-800 dark:bg-rose-900/60 dark:text-rose-200">
                  {t("hint.destructive")}
                </span>
              )}
              {call.name}
              {call.preview && (
                <span className="ml-2 text-zinc-500 dark:text-zinc-400">
                  <VisiblePath path={call.preview.path} />
                </span>
              )}
            </button>
            <Button variant="secondary" size="xs"
              onClick={() => onDecide(call.id, false)}
              aria-label={t("approval.denyOne", { name: call.name })}
              data-testid="deny-one-button"
            >
              {t("approval.deny")}
            </Button>
            <Button variant="primary" size="xs"
              onClick={() => onDecide(call.id, true)}
              disabled={!canApprove(call)}
              aria-label={t("approval.approveOne", { name: call.name })}
              data-testid="approve-one-button"
            >
              {t("approval.approve")}
            </Button>
          </li>
        ))}
      </ol>
    </section>
  );
}
