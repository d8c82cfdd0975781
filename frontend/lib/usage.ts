// What replies cost: a reply's usage (from `assistant_message_completed` or the history),
// the conversation's total, and how both read.
import type { ChatMessage } from "./chat_state";
import type { MessageUsage } from "./ws_events";

/** Every reply's usage together; the cost is unknown (absent) when any reply's is. */
export function totalUsage(messages: ChatMessage[]): MessageUsage | null {
  let total: MessageUsage | null = null;
  for (const message of messages) {
    if (message.role !== "assistant" || !message.usage) continue;
    const usage = message.usage;
    if (total === null) {
      total = { ...usage };
      continue;
    }
    total = {
      input_tokens: total.input_tokens + usage.input_tokens,
      output_tokens: total.output_tokens + usage.output_tokens,
      cache_read_input_tokens: total.cache_read_input_tokens + usage.cache_read_input_tokens,
      cache_creation_input_tokens: total.cache_creation_input_tokens + usage.cache_creation_input_tokens,
      cost_usd: total.cost_usd != null && usage.cost_usd != null ? total.cost_usd + usage.cost_usd : null,
    };
  }
  return total;
}

export function formatTokens(count: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(count);
}

/** USD with enough digits to tell small replies apart ("US$ 0,0261"); null: unknown. */
export function formatCost(cost: number | null | undefined, locale: string): string | null {
  if (cost == null) return null;
  const digits = cost >= 1 ? 2 : 4;
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(cost);
}

/** Input tokens all told: the cache's reads and writes included. */
export function inputTokens(usage: MessageUsage): number {
  return usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
}
