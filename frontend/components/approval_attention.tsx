"use client";
// Wires lib/attention.ts to the chat: while calls wait for the person, the tab's title and icon
// say so, a hidden tab gets a notification, and the chime plays if the person turned it on.
import { useEffect, useRef, useState } from "react";
import { APPROVAL_DIALOG_ID, Attention, type NotificationApi } from "@/lib/attention";
import { pendingToolsSelector } from "@/lib/chat_state";
import { chime } from "@/lib/chime";
import { soundPreference } from "@/lib/preferences";
import { useChatSelector } from "@/lib/use_chat";
import { useLocale, useT } from "@/lib/use_preferences";

function browserAttention(): Attention {
  return new Attention({
    document,
    focusWindow: () => window.focus(),
    notifications: typeof Notification === "function" ? (Notification as NotificationApi) : null,
    soundOn: soundPreference.get,
    chime,
    focusDialog: () => document.getElementById(APPROVAL_DIALOG_ID)?.focus(),
  });
}

export function ApprovalAttention() {
  // Built in an effect: the page is prerendered where there is no document.
  const attention = useRef<Attention | null>(null);
  const [selectPending] = useState(pendingToolsSelector);
  const calls = useChatSelector(selectPending);
  const t = useT();
  const locale = useLocale();

  useEffect(() => {
    const current = browserAttention();
    current.start();
    attention.current = current;
    return () => {
      current.stop();
      attention.current = null;
    };
  }, []);

  useEffect(() => {
    attention.current?.update(calls, t, locale);
  }, [calls, t, locale]);

  return null;
}
