"use client";
import { badgeKind, type BadgeKind } from "@/lib/badge";
import type { MessageKey } from "@/lib/i18n";
import { useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";

interface BadgeStyle {
  label: MessageKey;
  tone: string;
  dot: string;
  pulse: boolean;
}

const STYLES: Record<BadgeKind, BadgeStyle> = {
  connecting: {
    label: "status.connecting",
    tone: "bg-zinc-100 text-zinc-600 ring-zinc-200 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700",
    dot: "bg-zinc-400",
    pulse: true,
  },
  reconnecting: {
    label: "status.reconnecting",
    tone: "bg-orange-50 text-orange-700 ring-orange-200 dark:bg-orange-950/60 dark:text-orange-300 dark:ring-orange-900",
    dot: "bg-orange-500",
    pulse: true,
  },
  closed: {
    label: "status.closed",
    tone: "bg-rose-50 text-rose-700 ring-rose-200 dark:bg-rose-950/60 dark:text-rose-300 dark:ring-rose-900",
    dot: "bg-rose-500",
    pulse: false,
  },
  awaiting_approval: {
    label: "status.awaiting_approval",
    tone: "bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950/60 dark:text-amber-300 dark:ring-amber-900",
    dot: "bg-amber-500",
    pulse: true,
  },
  tool_running: {
    label: "status.tool_running",
    tone: "bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950/60 dark:text-sky-300 dark:ring-sky-900",
    dot: "bg-sky-500",
    pulse: true,
  },
  streaming: {
    label: "status.streaming",
    tone: "bg-indigo-50 text-indigo-700 ring-indigo-200 dark:bg-indigo-950/60 dark:text-indigo-300 dark:ring-indigo-900",
    dot: "bg-indigo-500",
    pulse: true,
  },
  busy: {
    label: "status.busy",
    tone: "bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950/60 dark:text-amber-300 dark:ring-amber-900",
    dot: "bg-amber-500",
    pulse: false,
  },
  error: {
    label: "status.error",
    tone: "bg-rose-50 text-rose-700 ring-rose-200 dark:bg-rose-950/60 dark:text-rose-300 dark:ring-rose-900",
    dot: "bg-rose-500",
    pulse: false,
  },
  idle: {
    label: "status.idle",
    tone: "bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950/60 dark:text-emerald-300 dark:ring-emerald-900",
    dot: "bg-emerald-500",
    pulse: false,
  },
};

export function StatusBadge() {
  const t = useT();
  const kind = useChatSelector(badgeKind);
  const filePath = useChatSelector((s) => s.filePath);
  const style = STYLES[kind];
  return (
    <span
      role="status"
      data-testid="status-badge"
      data-kind={kind}
      className={`inline-flex h-7 max-w-[16rem] min-w-0 shrink items-center gap-2 rounded-full px-2.5 text-xs font-medium ring-1 ring-inset ${style.tone}`}
    >
      <span className="relative flex size-2 shrink-0">
        {style.pulse && (
          <span className={`absolute inline-flex size-full animate-ping rounded-full opacity-60 ${style.dot}`} />
        )}
        <span className={`relative inline-flex size-2 rounded-full ${style.dot}`} />
      </span>
      <span className="truncate">
        {t(style.label)}
        {kind === "tool_running" && filePath ? (
          <>
            {" "}
            <span className="font-mono opacity-80">{filePath}</span>
          </>
        ) : null}
      </span>
    </span>
  );
}
