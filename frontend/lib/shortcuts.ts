// The keyboard shortcuts: which key press means what. Pure, so the table is tested alone;
// components/keyboard_shortcuts.tsx listens and acts.
import type { MessageKey } from "./i18n";

export type ShortcutAction = "help" | "newChat" | "focusComposer" | "search" | "approve";

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  /** The focus is in a text field: a bare key is typing there, not a shortcut. */
  typing: boolean;
}

export interface Shortcut {
  action: ShortcutAction;
  keys: string[];
  label: MessageKey;
}

/** The list the `?` dialog shows, in its order. "Mod" is Ctrl, or ⌘ on a Mac. */
export const SHORTCUTS: Shortcut[] = [
  { action: "help", keys: ["?"], label: "shortcuts.help" },
  { action: "newChat", keys: ["Mod", "Shift", "O"], label: "shortcuts.newChat" },
  { action: "focusComposer", keys: ["/"], label: "shortcuts.focusComposer" },
  { action: "search", keys: ["Mod", "K"], label: "shortcuts.search" },
  { action: "approve", keys: ["Mod", "Enter"], label: "shortcuts.approve" },
];

export function shortcutFor(press: KeyPress): ShortcutAction | null {
  const mod = press.ctrlKey || press.metaKey;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if (press.altKey) return null;
  if (mod) {
    if (press.shiftKey && key === "o") return "newChat";
    if (!press.shiftKey && key === "k") return "search";
    if (!press.shiftKey && key === "Enter") return "approve";
    return null;
  }
  if (press.typing) return null;
  if (key === "?") return "help";
  if (key === "/" && !press.shiftKey) return "focusComposer";
  return null;
}

/** Whether `target` takes text: an input that is not a button or box, a textarea, a select,
 * or editable content. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) {
    return true;
  }
  if (!(target instanceof HTMLInputElement)) return false;
  return !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"].includes(target.type);
}

export function pressOf(event: KeyboardEvent): KeyPress {
  return {
    key: event.key,
    ctrlKey: event.ctrlKey,
    metaKey: event.metaKey,
    shiftKey: event.shiftKey,
    altKey: event.altKey,
    typing: isTyping(event.target),
  };
}

/** How a key is shown: "Mod" as ⌘ on a Mac, else Ctrl. */
export function keyLabel(key: string, mac: boolean): string {
  if (key === "Mod") return mac ? "⌘" : "Ctrl";
  return key;
}
