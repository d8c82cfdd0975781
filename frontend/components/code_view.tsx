"use client";
import { firstLines } from "@/lib/format";
import { languageForPath } from "@/lib/syntax";
import { useT } from "@/lib/use_preferences";
import { HighlightedLine } from "./highlighted_line";

const MAX_LINES = 200;

/** A file's text, numbered and highlighted by its extension, in a scrollable panel; at most
 * MAX_LINES lines are drawn (the rest are counted). */
export function CodeView({
  text,
  path,
  label,
  testId,
  className = "max-h-60",
}: {
  text: string;
  path: string | null;
  label: string;
  testId: string;
  className?: string;
}) {
  const t = useT();
  const { head, hidden } = firstLines(text, MAX_LINES);
  const language = languageForPath(path);
  const lines = head.split("\n");
  return (
    <pre
      tabIndex={0}
      aria-label={label}
      data-testid={testId}
      data-language={language ?? "plaintext"}
      className={`overflow-auto rounded-xl bg-zinc-50 py-3 font-mono text-[12.5px] leading-5 text-zinc-800 ring-1 ring-zinc-200 dark:bg-black/60 dark:text-zinc-100 dark:ring-zinc-800 ${className}`}
    >
      {lines.map((line, index) => (
        <div key={index} className="flex">
          <span aria-hidden="true" className="w-10 shrink-0 pr-3 text-right text-zinc-400 select-none dark:text-zinc-600">
            {index + 1}
          </span>
          <code className="pr-4 whitespace-pre-wrap break-all">
            <HighlightedLine text={line} language={language} />
          </code>
        </div>
      ))}
      {hidden > 0 && <div className="pt-1 pl-10 text-zinc-500">{t("approval.moreLines", { n: hidden })}</div>}
    </pre>
  );
}
