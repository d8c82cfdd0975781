import { act, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nextShown, useProgressiveText } from "@/lib/use_progressive_text";

describe("nextShown", () => {
  it("takes on at most one step of new text", () => {
    const text = "a".repeat(10);
    expect(nextShown("", text, 4)).toBe("aaaa");
    expect(nextShown("aaaa", text, 4)).toBe("aaaaaaaa");
    expect(nextShown("aaaaaaaa", text, 4)).toBe(text);
  });

  it("starts again from the beginning when the text was replaced", () => {
    expect(nextShown("old text", "new text that is longer", 5)).toBe("new t");
    expect(nextShown("old", "new", 5)).toBe("new");
  });
});

function Shown({ text, streaming }: { text: string; streaming: boolean }) {
  return <p data-testid="shown">{useProgressiveText(text, streaming, 4)}</p>;
}

describe("useProgressiveText", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("catches up with a streaming text one step per task", () => {
    render(<Shown text="abcdefghijklmn" streaming />);
    expect(screen.getByTestId("shown").textContent).toBe("abcd");
    act(() => {
      vi.advanceTimersToNextTimer();
    });
    expect(screen.getByTestId("shown").textContent).toBe("abcdefgh");
    act(() => {
      vi.advanceTimersToNextTimer();
    });
    // Within one step of the end: the rest at once.
    expect(screen.getByTestId("shown").textContent).toBe("abcdefghijklmn");
  });

  it("shows a chunk within one step at once, without waiting for a task", () => {
    const { rerender } = render(<Shown text="abc" streaming />);
    rerender(<Shown text="abcdef" streaming />);
    expect(screen.getByTestId("shown").textContent).toBe("abcdef");
  });

  it("keeps catching up after the stream ended, and never shows less than before", () => {
    const { rerender } = render(<Shown text="ab" streaming />);
    rerender(<Shown text="abcdef" streaming />);
    rerender(<Shown text="abcdefghij" streaming />);
    expect(screen.getByTestId("shown").textContent).toBe("abcdefghij");
    rerender(<Shown text={`abcdefghij${"k".repeat(9)}`} streaming={false} />);
    expect(screen.getByTestId("shown").textContent).toBe("abcdefghij");
    act(() => {
      vi.advanceTimersToNextTimer();
    });
    expect(screen.getByTestId("shown").textContent).toBe("abcdefghijkkkk");
    act(() => {
      vi.advanceTimersToNextTimer();
    });
    expect(screen.getByTestId("shown").textContent).toBe(`abcdefghij${"k".repeat(9)}`);
  });

  it("shows a text that is not streaming whole, at once", () => {
    const { rerender } = render(<Shown text="a finished reply" streaming={false} />);
    expect(screen.getByTestId("shown").textContent).toBe("a finished reply");
    rerender(<Shown text="another branch's reply" streaming={false} />);
    expect(screen.getByTestId("shown").textContent).toBe("another branch's reply");
  });
});
