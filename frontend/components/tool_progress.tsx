"use client";
import { formatBytes } from "@/lib/format";
import type { Locale } from "@/lib/i18n";
import { useT } from "@/lib/use_preferences";

/** Bytes received of the size announced in the preview (when there is one). */
export function ToolProgress({
  received,
  total,
  locale,
}: {
  received: number;
  total: number | null;
  locale: Locale;
}) {
  const t = useT();
  const percent = total ? Math.min(100, Math.round((received / total) * 100)) : null;
  const label =
    total !== null
      ? t("tool.progress", { received: formatBytes(received, locale), total: formatBytes(total, locale) })
      : t("tool.received", { received: formatBytes(received, locale) });
  return (
    <div className="flex items-center gap-3" data-testid="tool-progress" data-received={received}>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={total ?? undefined}
        aria-valuenow={received}
        className="h-1.5 flex-1 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div
          className="h-full rounded-full bg-sky-500 transition-[width] duration-150"
          style={{ width: `${percent ?? (received > 0 ? 100 : 0)}%` }}
        />
      </div>
      <span className="shrink-0 text-xs text-zinc-500 tabular-nums dark:text-zinc-400">
        {label}
        {percent !== null && <span className="ml-1.5 font-medium">{percent}%</span>}
      </span>
    </div>
  );
}
