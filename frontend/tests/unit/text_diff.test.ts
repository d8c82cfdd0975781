import { describe, expect, it } from "vitest";
import { lineDiff } from "@/lib/text_diff";

describe("lineDiff", () => {
  it("marks the changed lines and counts them", () => {
    const diff = lineDiff("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(diff.rows).toEqual([
      { kind: "same", text: "a" },
      { kind: "removed", text: "b" },
      { kind: "added", text: "B" },
      { kind: "same", text: "c" },
      { kind: "added", text: "d" },
    ]);
    expect([diff.added, diff.removed]).toEqual([2, 1]);
  });

  it("shows a new file as all added and a deleted one as all removed", () => {
    expect(lineDiff(null, "x\ny\n").rows.map((r) => r.kind)).toEqual(["added", "added"]);
    expect(lineDiff("x\n", null).removed).toBe(1);
  });
});
