"use client";
import { useMemo } from "react";
import { lineDiff, type DiffKind } from "@/lib/text_diff";
import { useT } from "@/lib/use_preferences";

const ROW_CLASS: Record<DiffKind, string> = {
  added: "bg-emerald-500/15 text-emerald-900 dark:text-emerald-200",
  removed: "bg-rose-500/15 text-rose-900 dark:text-rose-200",
  same: "text-zinc-600 dark:text-zinc-400",
};
const ROW_MARK: Record<DiffKind, string> = { added: "+", removed: "−", same: " " };

/** A unified line diff of `before` → `after` (null: no file), with its +/− counts. */
export function DiffView({ before, after }: { before: string | null; after: string | null }) {
  const t = useT();
  const diff = useMemo(() => lineDiff(before, after), [before, after]);
  return (
    <div data-testid="diff-view" className="space-y-1">
      <p className="font-mono text-xs text-zinc-500" data-testid="diff-counts">
        {t("files.counts", { added: diff.added, removed: diff.removed })}
      </p>
      <pre className="max-h-80 overflow-auto rounded-lg border border-zinc-200 bg-white font-mono text-[12.5px] leading-5 dark:border-zinc-800 dark:bg-zinc-950">
        {diff.rows.map((row, index) => (
          <div key={index} data-kind={row.kind} className={`px-2 whitespace-pre-wrap ${ROW_CLASS[row.kind]}`}>
            <span aria-hidden="true" className="mr-2 select-none">
              {ROW_MARK[row.kind]}
            </span>
            {row.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
