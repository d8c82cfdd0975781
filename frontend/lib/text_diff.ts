// Line diffs between two texts, with jsdiff (the `diff` package), as rows a view can draw.
import { diffLines } from "diff";

export type DiffKind = "added" | "removed" | "same";

export interface DiffRow {
  kind: DiffKind;
  text: string;
}

export interface TextDiff {
  rows: DiffRow[];
  added: number;
  removed: number;
}

/** `before` (null: no file) → `after`, one row per line. */
export function lineDiff(before: string | null, after: string | null): TextDiff {
  const rows: DiffRow[] = [];
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before ?? "", after ?? "")) {
    const kind: DiffKind = part.added ? "added" : part.removed ? "removed" : "same";
    const lines = part.value.replace(/\n$/, "").split("\n");
    for (const text of lines) rows.push({ kind, text });
    if (kind === "added") added += lines.length;
    if (kind === "removed") removed += lines.length;
  }
  return { rows, added, removed };
}
