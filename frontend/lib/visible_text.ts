// Text a person must judge (a path to approve) shown as it is: characters that render as
// nothing or reorder what follows (bidirectional controls, zero-width and other format
// characters, control characters, unusual spaces) become visible `U+XXXX` marks.

export type TextPart = { text: string } | { hidden: string; code: string };

const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/** `text` split into plain runs and the hidden characters between them. */
export function revealHidden(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(HIDDEN)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    const codePoint = match[0].codePointAt(0) ?? 0;
    parts.push({ hidden: match[0], code: `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}` });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
