"use client";
import { useMemo, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
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
const ROW_PX = 20; // one line at leading-5; wrapped lines are measured as they are drawn
const WINDOW_FROM = 200; // rows: a longer diff draws only the rows in (and near) view

/** What a write changes in a file: +/− counts, then the hunks, unified or side by side,
 * highlighted by the file's type. The server bounds the hunks (file_diff.py) and says when a
 * file could not be compared. */
export function DiffView({ diff, path }: { diff: FileDiff; path: string }) {
  const t = useT();
  const [layout, setLayout] = useState<Layout>("unified");
  const language = languageForPath(path);
  // State, not a ref: the rows learn of their scroller in a render after it exists.
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);

  if (diff.skipped) {
    return (
      <p data-testid="diff-skipped" className="rounded-xl bg-zinc-100 px-4 py-3 text-sm dark:bg-zinc-800">
        {t(diff.skipped === "binary" ? "diff.binary" : "diff.too_large")}
      </p>
    );
  }
  return (
    <figure className="shrink-0 space-y-1.5" data-testid="diff-view" data-layout={layout}>
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
      <div ref={setScroller} data-testid="diff-scroller" className="max-h-72 overflow-auto rounded-xl bg-white font-mono text-[12.5px] leading-5 ring-1 ring-zinc-200 dark:bg-black/60 dark:ring-zinc-800">
        {diff.hunks.length === 0 ? (
          <p className="px-4 py-3 font-sans text-sm text-zinc-500">{t("diff.noChange")}</p>
        ) : layout === "unified" ? (
          <Unified diff={diff} language={language} scroller={scroller} />
        ) : (
          <Split diff={diff} language={language} scroller={scroller} />
        )}
      </div>
      {diff.truncated && <p className="text-xs text-zinc-500">{t("diff.truncated")}</p>}
    </figure>
  );
}

interface RowsProps {
  diff: FileDiff;
  language: string | null;
  scroller: HTMLDivElement | null;
}

interface RowWindow {
  indices: number[];
  padTop: number;
  padBottom: number;
  measure: ((row: Element | null) => void) | undefined;
}

/** Which rows to draw: all of a short diff; of a long one, those the scroller shows (and some
 * around them), with the height of the others kept as padding so the scrollbar stays true. */
function useRowWindow(count: number, scroller: HTMLDivElement | null): RowWindow {
  const windowed = count >= WINDOW_FROM;
  // eslint-disable-next-line react-hooks/incompatible-library -- its results are read right here, never memoised
  const virtualizer = useVirtualizer({
    count: windowed ? count : 0,
    getScrollElement: () => scroller,
    estimateSize: () => ROW_PX,
    overscan: 30,
  });
  if (!windowed) return { indices: [...Array(count).keys()], padTop: 0, padBottom: 0, measure: undefined };
  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items.at(-1);
  return {
    indices: items.map((item) => item.index),
    padTop: first?.start ?? 0,
    padBottom: virtualizer.getTotalSize() - (last?.end ?? 0),
    measure: virtualizer.measureElement,
  };
}

function Padding({ height, span }: { height: number; span: number }) {
  if (height <= 0) return null;
  return (
    <tr aria-hidden="true">
      <td colSpan={span} style={{ height, padding: 0 }} />
    </tr>
  );
}

function Unified({ diff, language, scroller }: RowsProps) {
  const rows = useMemo(() => unifiedRows(diff.hunks), [diff.hunks]);
  const shown = useRowWindow(rows.length, scroller);
  return (
    <table className="w-full border-collapse" data-testid="diff-unified" data-rows={rows.length}>
      <tbody>
        <Padding height={shown.padTop} span={4} />
        {shown.indices.map((index) => {
          const row = rows[index];
          if (!row) return null;
          return row.type === "hunk" ? (
            <HunkRow key={index} index={index} measure={shown.measure} header={row.header} span={4} />
          ) : (
            <tr key={index} data-index={index} ref={shown.measure} data-kind={row.kind} className={LINE_BG[row.kind]}>
              <Number value={row.oldNumber} />
              <Number value={row.newNumber} />
              <td aria-hidden="true" className="w-4 pl-1 text-zinc-500 select-none">{MARK[row.kind]}</td>
              <td className="pr-4 whitespace-pre-wrap break-all">
                <HighlightedLine text={row.text} language={language} />
              </td>
            </tr>
          );
        })}
        <Padding height={shown.padBottom} span={4} />
      </tbody>
    </table>
  );
}

function Split({ diff, language, scroller }: RowsProps) {
  const t = useT();
  const rows = useMemo(() => splitRows(diff.hunks), [diff.hunks]);
  const shown = useRowWindow(rows.length, scroller);
  return (
    <table className="w-full table-fixed border-collapse" data-testid="diff-split" data-rows={rows.length}>
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
        <Padding height={shown.padTop} span={4} />
        {shown.indices.map((index) => {
          const row = rows[index];
          if (!row) return null;
          return row.type === "hunk" ? (
            <HunkRow key={index} index={index} measure={shown.measure} header={row.header ?? ""} span={4} />
          ) : (
            <tr key={index} data-index={index} ref={shown.measure}>
              <Side line={row.left} number={row.left?.oldNumber ?? null} language={language} />
              <Side line={row.right} number={row.right?.newNumber ?? null} language={language} />
            </tr>
          );
        })}
        <Padding height={shown.padBottom} span={4} />
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

function HunkRow({
  header,
  span,
  index,
  measure,
}: {
  header: string;
  span: number;
  index: number;
  measure: RowWindow["measure"];
}) {
  return (
    <tr data-index={index} ref={measure} className="bg-sky-50 text-sky-800 dark:bg-sky-950/40 dark:text-sky-300">
      <td colSpan={span} className="px-3 py-0.5 text-[11.5px]">
        {header}
      </td>
    </tr>
  );
}
