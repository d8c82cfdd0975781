"use client";
import { errorText } from "@/lib/i18n";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { ErrorAlert } from "./error_alert";

/** Errors that belong to no reply, and the lost connection. */
export function NoticeList() {
  const t = useT();
  const client = useChatClient();
  const notices = useChatSelector((s) => s.notices);
  const closed = useChatSelector((s) => s.connection === "closed");
  if (notices.length === 0 && !closed) return null;
  return (
    <div className="space-y-2" data-testid="notices">
      {closed && (
        <div
          role="alert"
          className="flex items-center justify-between gap-3 rounded-xl border border-zinc-200 bg-white px-4 py-2.5 text-sm dark:border-zinc-800 dark:bg-zinc-900"
        >
          <span>{t("notice.offline")}</span>
          <button
            type="button"
            onClick={() => client.reconnect()}
            className="rounded-lg bg-zinc-900 px-3 py-1.5 text-xs font-semibold text-white hover:bg-zinc-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:bg-zinc-100 dark:text-zinc-900"
          >
            {t("notice.retry")}
          </button>
        </div>
      )}
      {notices.map((notice) => (
        <ErrorAlert
          key={notice.id}
          message={errorText(t, notice.message, notice.code)}
          code={notice.code}
          onDismiss={() => client.dismissNotice(notice.id)}
        />
      ))}
    </div>
  );
}
