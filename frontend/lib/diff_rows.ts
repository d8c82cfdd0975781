// The rows a diff is drawn with: unified (one column) or side by side (before | after), from
// the hunks the server computed (gatehouse/file_diff.py: each line starts with " ", "+" or "-").
import type { DiffHunk } from "./protocol";

export type LineKind = "context" | "added" | "removed";

export interface DiffLine {
  kind: LineKind;
  text: string;
  oldNumber: number | null;
  newNumber: number | null;
}

export type UnifiedRow = { type: "hunk"; header: string } | ({ type: "line" } & DiffLine);

export interface SplitRow {
  type: "hunk" | "pair";
  header?: string;
  left: DiffLine | null;
  right: DiffLine | null;
}

function kindOf(mark: string): LineKind {
  return mark === "+" ? "added" : mark === "-" ? "removed" : "context";
}

function hunkHeader(hunk: DiffHunk): string {
  return `@@ -${hunk.old_start},${hunk.old_lines} +${hunk.new_start},${hunk.new_lines} @@`;
}

/** The hunk's lines with their numbers in the old and the new file. */
export function numberedLines(hunk: DiffHunk): DiffLine[] {
  let oldNumber = hunk.old_start;
  let newNumber = hunk.new_start;
  return hunk.lines.map((raw) => {
    const kind = kindOf(raw.charAt(0));
    const line: DiffLine = {
      kind,
      text: raw.slice(1),
      oldNumber: kind === "added" ? null : oldNumber,
      newNumber: kind === "removed" ? null : newNumber,
    };
    if (kind !== "added") oldNumber += 1;
    if (kind !== "removed") newNumber += 1;
    return line;
  });
}

export function unifiedRows(hunks: DiffHunk[]): UnifiedRow[] {
  return hunks.flatMap((hunk): UnifiedRow[] => [
    { type: "hunk", header: hunkHeader(hunk) },
    ...numberedLines(hunk).map((line): UnifiedRow => ({ type: "line", ...line })),
  ]);
}

/** Side by side: a run of removed lines is paired with the run of added lines after it. */
export function splitRows(hunks: DiffHunk[]): SplitRow[] {
  const rows: SplitRow[] = [];
  for (const hunk of hunks) {
    rows.push({ type: "hunk", header: hunkHeader(hunk), left: null, right: null });
    const lines = numberedLines(hunk);
    let index = 0;
    while (index < lines.length) {
      const line = lines[index]!;
      if (line.kind === "context") {
        rows.push({ type: "pair", left: line, right: line });
        index += 1;
        continue;
      }
      const removed: DiffLine[] = [];
      const added: DiffLine[] = [];
      while (index < lines.length && lines[index]!.kind === "removed") removed.push(lines[index++]!);
      while (index < lines.length && lines[index]!.kind === "added") added.push(lines[index++]!);
      for (let n = 0; n < Math.max(removed.length, added.length); n += 1) {
        rows.push({ type: "pair", left: removed[n] ?? null, right: added[n] ?? null });
      }
    }
  }
  return rows;
}
