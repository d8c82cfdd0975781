"use client";
import type { MessageUsage } from "@/lib/ws_events";
import { formatCost, formatTokens, inputTokens } from "@/lib/usage";
import { useLocale, useT } from "@/lib/use_preferences";

/** The quiet line under a reply: its tokens (how many came from the cache) and its cost. */
export function UsageLine({ usage }: { usage: MessageUsage }) {
  const t = useT();
  const locale = useLocale();
  const cost = formatCost(usage.cost_usd, locale) ?? t("usage.costUnknown");
  const line = t("usage.line", {
    input: formatTokens(inputTokens(usage), locale),
    cached: formatTokens(usage.cache_read_input_tokens, locale),
    output: formatTokens(usage.output_tokens, locale),
  });
  return (
    <p data-testid="usage-line" className="text-xs text-zinc-400 tabular-nums dark:text-zinc-500">
      {line} · <span data-testid="usage-cost">{cost}</span>
    </p>
  );
}

/** The conversation's total, for the header: every reply's tokens and cost together. */
export function UsageTotal({ usage }: { usage: MessageUsage }) {
  const t = useT();
  const locale = useLocale();
  const cost = formatCost(usage.cost_usd, locale) ?? t("usage.costUnknown");
  const tokens = formatTokens(inputTokens(usage) + usage.output_tokens, locale);
  const title = t("usage.totalTitle", {
    input: formatTokens(inputTokens(usage), locale),
    read: formatTokens(usage.cache_read_input_tokens, locale),
    written: formatTokens(usage.cache_creation_input_tokens, locale),
    output: formatTokens(usage.output_tokens, locale),
  });
  return (
    <span
      data-testid="usage-total"
      title={title}
      className="hidden truncate text-xs text-zinc-500 tabular-nums md:inline dark:text-zinc-400"
    >
      {t("usage.total", { tokens, cost })}
    </span>
  );
}
