"use client";
// Keyboard shortcuts for the whole page, and the list `?` opens. The approval dialog handles
// its own keys (Esc denies, Mod+Enter approves) while it is open; nothing here acts then.
import { useCallback, useEffect, useState } from "react";
import { selectPendingTool } from "@/lib/chat_state";
import { SHORTCUTS, keyLabel, pressOf, shortcutFor, type ShortcutAction } from "@/lib/shortcuts";
import { useChatClient } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { Button } from "./ui/button";
import { Dialog } from "./ui/dialog";

export const COMPOSER_INPUT_ID = "composer-input";
export const SEARCH_INPUT_ID = "conversation-search";
const OPEN_DIALOG = '[role="dialog"], [role="alertdialog"], [aria-modal="true"]';

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
      if (document.querySelector(OPEN_DIALOG)) return; // another dialog has the keys
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
  const mac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
  return (
    <Dialog
      testId="shortcut-list"
      title={t("shortcuts.title")}
      onEscape={onClose}
      footer={
        <Button onClick={onClose} data-testid="shortcut-list-close">
          {t("shortcuts.close")}
        </Button>
      }
    >
      <dl className="space-y-2 px-6 pb-4 text-sm">
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
    </Dialog>
  );
}
