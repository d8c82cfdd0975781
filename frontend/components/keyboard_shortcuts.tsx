"use client";
// Keyboard shortcuts for the whole page, and the list `?` opens. The approval dialog handles
// its own keys (Esc denies, Mod+Enter approves) while it is open; nothing here acts then.
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { selectPendingTool } from "@/lib/chat_state";
import { SHORTCUTS, keyLabel, pressOf, shortcutFor, type ShortcutAction } from "@/lib/shortcuts";
import { useChatClient } from "@/lib/use_chat";
import { useFocusTrap } from "@/lib/use_focus_trap";
import { useT } from "@/lib/use_preferences";

export const COMPOSER_INPUT_ID = "composer-input";
export const SEARCH_INPUT_ID = "conversation-search";

export function KeyboardShortcuts() {
  const client = useChatClient();
  const [helpOpen, setHelpOpen] = useState(false);

  const act = useCallback(
    (action: ShortcutAction): boolean => {
      switch (action) {
        case "help":
          setHelpOpen(true);
          return true;
        case "newChat":
          client.newChat();
          document.getElementById(COMPOSER_INPUT_ID)?.focus();
          return true;
        case "focusComposer":
          return focusById(COMPOSER_INPUT_ID);
        case "search":
          return focusById(SEARCH_INPUT_ID);
        case "approve":
          return false; // the approval dialog's own
      }
    },
    [client],
  );

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || helpOpen) return;
      if (selectPendingTool(client.store.current) !== null) return;
      if (document.querySelector('[aria-modal="true"]')) return; // another dialog has the keys
      const action = shortcutFor(pressOf(event));
      if (action && act(action)) event.preventDefault();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [act, client, helpOpen]);

  return helpOpen ? <ShortcutList onClose={() => setHelpOpen(false)} /> : null;
}

function focusById(id: string): boolean {
  const element = document.getElementById(id);
  if (!(element instanceof HTMLElement) || element.offsetParent === null) return false;
  element.focus();
  if (element instanceof HTMLInputElement) element.select();
  return true;
}

function ShortcutList({ onClose }: { onClose: () => void }) {
  const t = useT();
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useFocusTrap(ref, onClose);
  const mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-zinc-950/30 sm:items-center sm:p-6 dark:bg-black/50">
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        data-testid="shortcut-list"
        className="w-full max-w-md overflow-hidden rounded-t-2xl bg-white shadow-2xl ring-1 ring-zinc-900/10 outline-none sm:rounded-2xl dark:bg-zinc-900 dark:ring-white/10"
      >
        <h2 id={titleId} className="px-6 pt-5 text-lg font-semibold tracking-tight">
          {t("shortcuts.title")}
        </h2>
        <dl className="space-y-2 px-6 py-4 text-sm">
          {SHORTCUTS.map((shortcut) => (
            <div key={shortcut.action} className="flex items-center justify-between gap-4" data-testid={`shortcut-${shortcut.action}`}>
              <dt className="text-zinc-700 dark:text-zinc-300">{t(shortcut.label)}</dt>
              <dd className="flex gap-1">
                {shortcut.keys.map((key) => (
                  <kbd
                    key={key}
                    className="rounded border border-zinc-300 bg-zinc-50 px-1.5 py-0.5 font-sans text-xs dark:border-zinc-700 dark:bg-zinc-800"
                  >
                    {keyLabel(key, mac)}
                  </kbd>
                ))}
              </dd>
            </div>
          ))}
        </dl>
        <div className="flex justify-end border-t border-zinc-100 bg-zinc-50/80 px-6 py-3 dark:border-zinc-800 dark:bg-zinc-950/40">
          <button
            type="button"
            onClick={onClose}
            data-testid="shortcut-list-close"
            className="h-9 rounded-lg border border-zinc-300 bg-white px-4 text-sm font-semibold text-zinc-800 shadow-xs hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800"
          >
            {t("shortcuts.close")}
          </button>
        </div>
      </div>
    </div>
  );
}
