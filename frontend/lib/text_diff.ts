// The diff between two texts the browser already holds (two versions of a file, a file now
// against what Gatehouse wrote), with jsdiff (the `diff` package), in the shape the server
// sends for an approval's preview, so one view draws both.
import { structuredPatch } from "diff";
import type { FileDiff } from "@/lib/protocol";

const CONTEXT_LINES = 3;

/** `before` (null: no file) → `after` (null: no file), as unified hunks with +/− counts. */
export function textDiff(before: string | null, after: string | null): FileDiff {
  const patch = structuredPatch("", "", before ?? "", after ?? "", "", "", { context: CONTEXT_LINES });
  let added = 0;
  let removed = 0;
  const hunks = patch.hunks.map((hunk) => {
    // "\ No newline at end of file" is jsdiff's note, not a line of either text.
    const lines = hunk.lines.filter((line) => !line.startsWith("\\"));
    for (const line of lines) {
      if (line.startsWith("+")) added += 1;
      else if (line.startsWith("-")) removed += 1;
    }
    return {
      old_start: hunk.oldStart,
      old_lines: hunk.oldLines,
      new_start: hunk.newStart,
      new_lines: hunk.newLines,
      lines,
    };
  });
  return { added, removed, hunks, truncated: false, skipped: null };
}
