import type { ReactNode } from "react";

/** One labelled fact in the approval dialog (tool, server, path, size). */
export function ApprovalDetail({
  label,
  testId,
  mono = false,
  title,
  children,
}: {
  label: string;
  testId: string;
  mono?: boolean;
  title?: string;
  children: ReactNode;
}) {
  return (
    <div className="min-w-0 bg-zinc-50 px-3.5 py-2.5 dark:bg-zinc-950/70">
      <dt className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {label}
      </dt>
      <dd
        data-testid={testId}
        title={title}
        className={`mt-0.5 truncate text-[13px] font-medium ${mono ? "font-mono" : ""}`}
      >
        {children}
      </dd>
    </div>
  );
}
