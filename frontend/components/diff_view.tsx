"use client";
import { useMemo, useState } from "react";
import { splitRows, unifiedRows, type DiffLine } from "@/lib/diff_rows";
import type { FileDiff } from "@/lib/protocol";
import { languageForPath } from "@/lib/syntax";
import { useT } from "@/lib/use_preferences";
import { HighlightedLine } from "./highlighted_line";

type Layout = "unified" | "split";

const LINE_BG: Record<DiffLine["kind"], string> = {
  context: "",
  added: "bg-emerald-50 dark:bg-emerald-950/50",
  removed: "bg-rose-50 dark:bg-rose-950/50",
};
const MARK: Record<DiffLine["kind"], string> = { context: " ", added: "+", removed: "−" };

/** What a write changes in a file: +/− counts, then the hunks, unified or side by side,
 * highlighted by the file's type. The server bounds the hunks (file_diff.py) and says when a
 * file could not be compared. */
export function DiffView({ diff, path }: { diff: FileDiff; path: string }) {
  const t = useT();
  const [layout, setLayout] = useState<Layout>("unified");
  const language = languageForPath(path);

  if (diff.skipped) {
    return (
      <p data-testid="diff-skipped" className="rounded-xl bg-zinc-100 px-4 py-3 text-sm dark:bg-zinc-800">
        {t(diff.skipped === "binary" ? "diff.binary" : "diff.too_large")}
      </p>
    );
  }
  return (
    <figure className="space-y-1.5" data-testid="diff-view" data-layout={layout}>
      <figcaption className="flex flex-wrap items-center gap-3 text-xs">
        <span className="font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
          {t("diff.title")}
        </span>
        <span data-testid="diff-added" title={t("diff.added", { n: diff.added })} className="font-mono font-semibold text-emerald-700 dark:text-emerald-400">
          +{diff.added}
        </span>
        <span data-testid="diff-removed" title={t("diff.removed", { n: diff.removed })} className="font-mono font-semibold text-rose-700 dark:text-rose-400">
          −{diff.removed}
        </span>
        <span role="group" aria-label={t("diff.title")} className="ml-auto inline-flex overflow-hidden rounded-md ring-1 ring-zinc-300 dark:ring-zinc-700">
          {(["unified", "split"] as const).map((option) => (
            <button
              key={option}
              type="button"
              aria-pressed={layout === option}
              data-testid={`diff-layout-${option}`}
              onClick={() => setLayout(option)}
              className="px-2 py-0.5 font-medium aria-pressed:bg-zinc-800 aria-pressed:text-white dark:aria-pressed:bg-zinc-200 dark:aria-pressed:text-zinc-900"
            >
              {t(option === "unified" ? "diff.unified" : "diff.split")}
            </button>
          ))}
        </span>
      </figcaption>
      <div className="max-h-72 overflow-auto rounded-xl bg-white font-mono text-[12.5px] leading-5 ring-1 ring-zinc-200 dark:bg-black/60 dark:ring-zinc-800">
        {diff.hunks.length === 0 ? (
          <p className="px-4 py-3 font-sans text-sm text-zinc-500">{t("diff.noChange")}</p>
        ) : layout === "unified" ? (
          <Unified diff={diff} language={language} />
        ) : (
          <Split diff={diff} language={language} />
        )}
      </div>
      {diff.truncated && <p className="text-xs text-zinc-500">{t("diff.truncated")}</p>}
    </figure>
  );
}

function Unified({ diff, language }: { diff: FileDiff; language: string | null }) {
  const rows = useMemo(() => unifiedRows(diff.hunks), [diff.hunks]);
  return (
    <table className="w-full border-collapse" data-testid="diff-unified">
      <tbody>
        {rows.map((row, index) =>
          row.type === "hunk" ? (
            <HunkRow key={index} header={row.header} span={4} />
          ) : (
            <tr key={index} data-kind={row.kind} className={LINE_BG[row.kind]}>
              <Number value={row.oldNumber} />
              <Number value={row.newNumber} />
              <td aria-hidden="true" className="w-4 pl-1 text-zinc-500 select-none">{MARK[row.kind]}</td>
              <td className="pr-4 whitespace-pre-wrap break-all">
                <HighlightedLine text={row.text} language={language} />
              </td>
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}

function Split({ diff, language }: { diff: FileDiff; language: string | null }) {
  const t = useT();
  const rows = useMemo(() => splitRows(diff.hunks), [diff.hunks]);
  return (
    <table className="w-full table-fixed border-collapse" data-testid="diff-split">
      <colgroup>
        <col className="w-10" />
        <col />
        <col className="w-10" />
        <col />
      </colgroup>
      <thead className="sr-only">
        <tr>
          <th colSpan={2}>{t("diff.before")}</th>
          <th colSpan={2}>{t("diff.after")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row, index) =>
          row.type === "hunk" ? (
            <HunkRow key={index} header={row.header ?? ""} span={4} />
          ) : (
            <tr key={index}>
              <Side line={row.left} number={row.left?.oldNumber ?? null} language={language} />
              <Side line={row.right} number={row.right?.newNumber ?? null} language={language} />
            </tr>
          ),
        )}
      </tbody>
    </table>
  );
}

function Side({ line, number, language }: { line: DiffLine | null; number: number | null; language: string | null }) {
  const background = line ? LINE_BG[line.kind] : "bg-zinc-50 dark:bg-zinc-900";
  return (
    <>
      <Number value={number} className={background} />
      <td data-kind={line?.kind ?? "empty"} className={`border-r border-zinc-100 pr-2 whitespace-pre-wrap break-all dark:border-zinc-800 ${background}`}>
        {line && <HighlightedLine text={line.text} language={language} />}
      </td>
    </>
  );
}

function Number({ value, className = "" }: { value: number | null; className?: string }) {
  return (
    <td aria-hidden="true" className={`w-10 pr-2 text-right align-top text-zinc-400 select-none dark:text-zinc-600 ${className}`}>
      {value ?? ""}
    </td>
  );
}

function HunkRow({ header, span }: { header: string; span: number }) {
  return (
    <tr className="bg-sky-50 text-sky-800 dark:bg-sky-950/40 dark:text-sky-300">
      <td colSpan={span} className="px-3 py-0.5 text-[11.5px]">
        {header}
      </td>
    </tr>
  );
}
