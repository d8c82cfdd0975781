"use client";
import type { ToolCall } from "@/lib/chat_state";
import { declaredDestructive, hintBadges, type HintTone } from "@/lib/tool_hints";
import { useT } from "@/lib/use_preferences";
import { WarningIcon } from "./icons";

const TONE: Record<HintTone, string> = {
  safe: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200",
  danger: "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200",
  neutral: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  reach: "bg-sky-100 text-sky-800 dark:bg-sky-900/60 dark:text-sky-200",
};

/** The hints the tool's server declares, as badges; nothing when it declares none. */
export function ToolHintBadges({ call }: { call: ToolCall }) {
  const t = useT();
  const badges = hintBadges(call.annotations);
  if (badges.length === 0) return null;
  return (
    <ul
      className="mt-2 flex flex-wrap gap-1.5"
      aria-label={t("approval.hintsDeclared", { server: call.server })}
      title={t("approval.hintsDeclared", { server: call.server })}
      data-testid="tool-hints"
    >
      {badges.map(({ key, tone }) => (
        <li
          key={key}
          data-hint={key}
          className={`rounded-full px-2 py-0.5 text-xs font-medium ${TONE[tone]}`}
        >
          {t(key)}
        </li>
      ))}
    </ul>
  );
}

/**
 * Says plainly that the tool may destroy data, when its server declares so, unless the call's
 * own preview shows it replaces nothing (a new file).
 */
export function DestructiveWarning({ call }: { call: ToolCall }) {
  const t = useT();
  if (!declaredDestructive(call.annotations) || call.preview?.overwrite === false) return null;
  return (
    <p
      role="alert"
      data-testid="approval-destructive"
      className="mx-6 mt-3 flex items-start gap-2.5 rounded-xl border border-rose-300 bg-rose-50 px-4 py-3 text-sm font-medium text-rose-900 dark:border-rose-900/70 dark:bg-rose-950/40 dark:text-rose-200"
    >
      <WarningIcon className="mt-0.5 shrink-0 text-base" />
      {t("approval.destructive")}
    </p>
  );
}
