import type { ReactNode } from "react";

/** One labelled fact in the approval dialog (tool, server, path, size). A `full` one takes
 * the whole row and shows all of itself (a path must never be cut short). */
export function ApprovalDetail({
  label,
  testId,
  mono = false,
  full = false,
  className = "",
  title,
  children,
}: {
  label: string;
  testId: string;
  mono?: boolean;
  full?: boolean;
  /** Grid placement. */
  className?: string;
  title?: string;
  children: ReactNode;
}) {
  return (
    <div className={`min-w-0 bg-zinc-50 px-3.5 py-2.5 dark:bg-zinc-950/70 ${full ? "col-span-full" : ""} ${className}`}>
      <dt className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {label}
      </dt>
      <dd
        data-testid={testId}
        title={title}
        className={`mt-0.5 text-[13px] font-medium ${full ? "" : "truncate"} ${mono ? "font-mono" : ""}`}
      >
        {children}
      </dd>
    </div>
  );
}
