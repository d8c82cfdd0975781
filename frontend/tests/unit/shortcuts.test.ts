import { describe, expect, it } from "vitest";
import { keyLabel, shortcutFor, type KeyPress } from "@/lib/shortcuts";

const press = (key: string, extra: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  typing: false,
  ...extra,
});

describe("shortcutFor", () => {
  it.each([
    [press("?", { shiftKey: true }), "help"],
    [press("/"), "focusComposer"],
    [press("k", { ctrlKey: true }), "search"],
    [press("K", { metaKey: true }), "search"],
    [press("O", { ctrlKey: true, shiftKey: true }), "newChat"],
    [press("o", { metaKey: true, shiftKey: true }), "newChat"],
    [press("Enter", { ctrlKey: true }), "approve"],
  ] as const)("%o → %s", (keys, action) => {
    expect(shortcutFor(keys)).toBe(action);
  });

  it("leaves bare keys to a text field being typed in, but not the modified ones", () => {
    expect(shortcutFor(press("?", { typing: true, shiftKey: true }))).toBeNull();
    expect(shortcutFor(press("/", { typing: true }))).toBeNull();
    expect(shortcutFor(press("k", { typing: true, ctrlKey: true }))).toBe("search");
  });

  it("ignores keys that mean something else", () => {
    expect(shortcutFor(press("k"))).toBeNull();
    expect(shortcutFor(press("o", { ctrlKey: true }))).toBeNull(); // the browser's "open file"
    expect(shortcutFor(press("k", { ctrlKey: true, altKey: true }))).toBeNull();
    expect(shortcutFor(press("Enter"))).toBeNull();
  });

  it("shows Mod as ⌘ on a Mac and Ctrl elsewhere", () => {
    expect([keyLabel("Mod", true), keyLabel("Mod", false), keyLabel("K", false)]).toEqual(["⌘", "Ctrl", "K"]);
  });
});
