import { describe, expect, it } from "vitest";
import { textDiff } from "@/lib/text_diff";

describe("textDiff", () => {
  it("marks the changed lines and counts them, in the server's hunk shape", () => {
    const diff = textDiff("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(diff.hunks).toEqual([
      { old_start: 1, old_lines: 3, new_start: 1, new_lines: 4, lines: [" a", "-b", "+B", " c", "+d"] },
    ]);
    expect([diff.added, diff.removed]).toEqual([2, 1]);
    expect(diff.skipped).toBeNull();
  });

  it("shows a new file as all added and a deleted one as all removed", () => {
    expect(textDiff(null, "x\ny\n").hunks[0]?.lines).toEqual(["+x", "+y"]);
    expect(textDiff("x\n", null).removed).toBe(1);
  });

  it("keeps jsdiff's end-of-file note out of the lines", () => {
    const diff = textDiff("a", "b");
    expect(diff.hunks[0]?.lines).toEqual(["-a", "+b"]);
  });

  it("has no hunks for equal texts", () => {
    expect(textDiff("same\n", "same\n").hunks).toEqual([]);
  });
});
