import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";
import { collectDefinitions, splitBlocks } from "@/lib/markdown_blocks";

describe("markdown across blocks", () => {
  it("resolves a reference-style link whose definition is in another block", () => {
    const { container } = render(
      <Markdown text={"See [the docs][d] and [home].\n\nMore text.\n\n[d]: https://docs.example/x\n[home]: https://example.com"} />,
    );
    const links = Array.from(container.querySelectorAll("a"), (a) => [a.textContent, a.getAttribute("href")]);
    expect(links).toEqual([
      ["the docs", "https://docs.example/x"],
      ["home", "https://example.com"],
    ]);
    expect(container.textContent).not.toContain("[d]");
  });

  it("numbers footnotes across blocks and lists them once, at the end", () => {
    const text = "First claim.[^b]\n\nSecond claim.[^a] Again.[^b]\n\n[^a]: Note A.\n[^b]: Note B,\n    two lines.";
    const { container } = render(<Markdown text={text} />);
    const refs = Array.from(container.querySelectorAll("a[data-footnote-ref]"), (a) => a.textContent);
    expect(refs).toEqual(["1", "2", "1"]); // b is referenced first
    const sections = container.querySelectorAll("section[data-footnotes]");
    expect(sections).toHaveLength(1);
    const notes = Array.from(sections[0]!.querySelectorAll("li"), (li) => li.textContent);
    expect(notes[0]).toContain("Note B");
    expect(notes[0]).toContain("two lines");
    expect(notes[1]).toContain("Note A");
    expect(container.textContent).not.toContain("[^a]");
  });

  it("renders a neutralised link as plain text, not as an empty link", () => {
    const { container } = render(<Markdown text={"[click me](javascript:alert(1)) and [ok](https://ok.example)"} />);
    expect(screen.getByTestId("neutralised-link")).toHaveTextContent("click me");
    expect(Array.from(container.querySelectorAll("a"), (a) => a.textContent)).toEqual(["ok"]);
  });

  it("keeps the definitions of the whole text while the blocks stay separate", () => {
    const blocks = splitBlocks("x [a][r] y[^n]\n\n[r]: https://r.example\n\n[^n]: note");
    const definitions = collectDefinitions(blocks);
    expect(definitions.links).toBe("[r]: https://r.example");
    expect(definitions.order).toEqual(["n"]);
    expect(definitions.footnotes.get("n")?.text).toBe("note");
  });
});
