const encoder = new TextEncoder();

/** Bytes of `text` once encoded as UTF-8 (what the tool writes to disk). */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

const UNITS = ["B", "KB", "MB", "GB"] as const;

/** 1536 → "1.5 KB"; binary multiples, one decimal below 10. */
export function formatBytes(bytes: number, locale: string): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
  return `${number} ${UNITS[unit]}`;
}

/** The first `max` lines of `text`, and how many lines were left out. */
export function firstLines(text: string, max: number): { head: string; hidden: number } {
  const lines = text.split("\n");
  if (lines.length <= max) return { head: text, hidden: 0 };
  return { head: lines.slice(0, max).join("\n"), hidden: lines.length - max };
}

const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.35],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** "agora", "há 5 minutos", "ontem", "3 weeks ago": how long ago `then` was, seen from `now`. */
export function formatRelative(then: number, now: number, locale: string): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  let value = (then - now) / 1000;
  if (Math.abs(value) < 45) return format.format(0, "second");
  for (const [unit, size] of RELATIVE_STEPS) {
    const rounded = Math.round(value);
    if (Math.abs(rounded) < size) return format.format(rounded, unit);
    value /= size;
  }
  return format.format(Math.round(value), "year");
}
