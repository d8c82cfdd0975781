"use client";
import { firstLines } from "@/lib/format";
import { useT } from "@/lib/use_preferences";

const MAX_LINES = 200;

/** The first lines of what a tool will write, numbered, in a scrollable panel. */
export function ContentPreview({ label, text }: { label: string; text: string }) {
  const t = useT();
  const { head, hidden } = firstLines(text, MAX_LINES);
  const lines = head.split("\n");
  return (
    <figure className="space-y-1.5">
      <figcaption className="text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {label}
      </figcaption>
      <pre
        tabIndex={0}
        aria-label={label}
        data-testid="approval-preview"
        className="max-h-40 overflow-auto rounded-xl bg-zinc-950 py-3 font-mono text-[12.5px] leading-5 text-zinc-100 dark:bg-black/60"
      >
        {lines.map((line, index) => (
          <div key={index} className="flex">
            <span aria-hidden="true" className="w-10 shrink-0 pr-3 text-right text-zinc-600 select-none">
              {index + 1}
            </span>
            <span className="pr-4 whitespace-pre-wrap break-all">{line || " "}</span>
          </div>
        ))}
        {hidden > 0 && (
          <div className="pt-1 pl-10 text-zinc-500">{t("approval.moreLines", { n: hidden })}</div>
        )}
      </pre>
    </figure>
  );
}
