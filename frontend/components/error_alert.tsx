"use client";
import { useT } from "@/lib/use_preferences";
import { CloseIcon, WarningIcon } from "./icons";

/** An error for people: the server's localized text, never raw JSON. */
export function ErrorAlert({
  message,
  code,
  onDismiss,
}: {
  message: string;
  code?: string;
  onDismiss?: () => void;
}) {
  const t = useT();
  return (
    <div
      role="alert"
      data-testid="error-alert"
      data-code={code}
      className="flex items-start gap-3 rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/50 dark:text-rose-200"
    >
      <WarningIcon className="mt-0.5 shrink-0 text-base text-rose-500" />
      <p className="min-w-0 flex-1 leading-relaxed">{message}</p>
      {onDismiss && (
        <button
          type="button"
          onClick={onDismiss}
          aria-label={t("notice.dismiss")}
          className="-m-1 grid size-7 shrink-0 place-items-center rounded-md text-rose-500 transition hover:bg-rose-100 focus-visible:outline-2 focus-visible:outline-rose-500 dark:hover:bg-rose-900/60"
        >
          <CloseIcon />
        </button>
      )}
    </div>
  );
}
