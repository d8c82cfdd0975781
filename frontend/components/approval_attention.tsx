"use client";
// Wires lib/attention.ts to the chat: while calls wait for the person, the tab's title and icon
// say so, a hidden tab gets a notification, and the chime plays if the person turned it on.
import { useEffect, useState } from "react";
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
  const [attention] = useState(browserAttention);
  const selectPending = useState(pendingToolsSelector)[0];
  const calls = useChatSelector(selectPending);
  const t = useT();
  const locale = useLocale();

  useEffect(() => {
    attention.start();
    return () => attention.stop();
  }, [attention]);

  useEffect(() => {
    attention.update(calls, t, locale);
  }, [attention, calls, t, locale]);

  return null;
}
