"use client";
import type { DecisionScope } from "@/lib/chat_client";
import { useT } from "@/lib/use_preferences";

const SCOPES: readonly DecisionScope[] = ["once", "conversation", "always"];

/** How far an answer reaches (once, this conversation, always), the rule's path glob, and
 * the reason a denial gives Claude. */
export function DecisionControls({
  scope,
  onScope,
  pathGlob,
  onPathGlob,
  reason,
  onReason,
}: {
  scope: DecisionScope;
  onScope: (scope: DecisionScope) => void;
  pathGlob: string;
  /** Null when the call names no path: the rule covers the whole tool. */
  onPathGlob: ((glob: string) => void) | null;
  reason: string;
  onReason: (reason: string) => void;
}) {
  const t = useT();
  return (
    <div className="space-y-3 border-t border-zinc-100 px-6 py-3 text-sm dark:border-zinc-800">
      <fieldset className="flex flex-wrap items-center gap-x-4 gap-y-1" data-testid="approval-scope">
        <legend className="sr-only">{t("approval.scope")}</legend>
        {SCOPES.map((value) => (
          <label key={value} className="inline-flex items-center gap-1.5">
            <input
              type="radio"
              name="approval-scope"
              value={value}
              checked={scope === value}
              onChange={() => onScope(value)}
              data-testid={`scope-${value}`}
            />
            {t(`approval.scope.${value}`)}
          </label>
        ))}
      </fieldset>
      {scope !== "once" && onPathGlob && (
        <label className="flex items-center gap-2">
          <span className="shrink-0 text-zinc-600 dark:text-zinc-400">{t("approval.pathGlob")}</span>
          <input
            type="text"
            value={pathGlob}
            maxLength={256}
            onChange={(event) => onPathGlob(event.target.value)}
            data-testid="scope-glob"
            className="min-w-0 flex-1 rounded-md border border-zinc-300 bg-white px-2 py-1 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
          />
        </label>
      )}
      <label className="flex items-center gap-2">
        <span className="shrink-0 text-zinc-600 dark:text-zinc-400">{t("approval.reason")}</span>
        <input
          type="text"
          value={reason}
          maxLength={1000}
          onChange={(event) => onReason(event.target.value)}
          data-testid="deny-reason"
          placeholder={t("approval.reasonHint")}
          className="min-w-0 flex-1 rounded-md border border-zinc-300 bg-white px-2 py-1 text-xs dark:border-zinc-700 dark:bg-zinc-900"
        />
      </label>
    </div>
  );
}
