"use client";
import { useEffect, useState } from "react";
import {
  browserPolicyApi,
  PolicyRefusal,
  type AuditDecidedBy,
  type AuditDecision,
  type AuditFilters,
  type AuditRow,
  type PolicyApi,
  ruleHref,
} from "@/lib/policy_api";
import { useHydrated, usePageSearch } from "@/lib/use_page_search";
import { useLocale, useT } from "@/lib/use_preferences";
import { PageShell } from "./page_shell";
import { Button } from "./ui/button";

const INPUT =
  "rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
const DECISIONS: readonly AuditDecision[] = ["allowed", "denied", "expired"];
const DECIDERS: readonly AuditDecidedBy[] = ["person", "rule", "timeout", "expiry"];
const PAGE = 50;

type Loaded =
  | { state: "loading" }
  | { state: "failed"; code: string }
  | { state: "ready"; rows: AuditRow[]; next: number | null };

const failure = (error: unknown) => (error instanceof PolicyRefusal ? `${error.status}: ${error.message}` : String(error));

/** Drop the empty filters: the API filters on what it is given. */
function given(filters: AuditFilters): AuditFilters {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => typeof v === "string" && v.trim())) as AuditFilters;
}

/** The Activity view: every decision of the audit trail, newest first, filtered and paged. */
export function ActivityPage({ api: injected }: { api?: PolicyApi }) {
  const t = useT();
  const [api] = useState(() => injected ?? browserPolicyApi());
  const [filters, setFilters] = useState<AuditFilters>({});
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  const active = given(filters);
  const hydrated = useHydrated();
  const key = JSON.stringify(active);

  useEffect(() => {
    let current = true;
    const wanted = JSON.parse(key) as AuditFilters;
    api.audit(wanted, null, PAGE).then(
      (page) => current && setLoaded({ state: "ready", rows: page.rows, next: page.next }),
      (error: unknown) => current && setLoaded({ state: "failed", code: failure(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, key]);

  const more = async () => {
    if (loaded.state !== "ready" || loaded.next === null) return;
    try {
      const page = await api.audit(active, loaded.next, PAGE);
      setLoaded({ state: "ready", rows: [...loaded.rows, ...page.rows], next: page.next });
    } catch (error) {
      setLoaded({ state: "failed", code: failure(error) });
    }
  };
  const set = (name: keyof AuditFilters, value: string) => setFilters((f) => ({ ...f, [name]: value || undefined }));

  return (
    <PageShell page="activity" title={t("activity.title")}>
      <div className="space-y-4">
        <div className="flex flex-wrap items-end gap-3 text-sm" data-testid="activity-filters">
          <label className="space-y-1">
            <span className="block text-zinc-600 dark:text-zinc-400">{t("activity.filterServer")}</span>
            <input className={INPUT} value={filters.server ?? ""} maxLength={64} onChange={(e) => set("server", e.target.value)} data-testid="filter-server" />
          </label>
          <label className="space-y-1">
            <span className="block text-zinc-600 dark:text-zinc-400">{t("activity.filterTool")}</span>
            <input className={INPUT} value={filters.tool ?? ""} maxLength={128} onChange={(e) => set("tool", e.target.value)} data-testid="filter-tool" />
          </label>
          <label className="space-y-1">
            <span className="block text-zinc-600 dark:text-zinc-400">{t("activity.conversation")}</span>
            <input
              className={`${INPUT} font-mono`}
              value={filters.conversation_id ?? ""}
              maxLength={64}
              onChange={(e) => set("conversation_id", e.target.value)}
              data-testid="filter-conversation"
            />
          </label>
          <label className="space-y-1">
            <span className="block text-zinc-600 dark:text-zinc-400">{t("activity.decision")}</span>
            <select className={INPUT} value={filters.decision ?? ""} onChange={(e) => set("decision", e.target.value)} data-testid="filter-decision">
              <option value="">{t("activity.any")}</option>
              {DECISIONS.map((d) => (
                <option key={d} value={d}>
                  {t(`activity.decision.${d}`)}
                </option>
              ))}
            </select>
          </label>
          <label className="space-y-1">
            <span className="block text-zinc-600 dark:text-zinc-400">{t("activity.decidedBy")}</span>
            <select className={INPUT} value={filters.decided_by ?? ""} onChange={(e) => set("decided_by", e.target.value)} data-testid="filter-decided-by">
              <option value="">{t("activity.any")}</option>
              {DECIDERS.map((d) => (
                <option key={d} value={d}>
                  {t(`activity.by.${d}`)}
                </option>
              ))}
            </select>
          </label>
          <div className="ml-auto flex gap-3">
            <a href={hydrated ? api.exportUrl(active, "jsonl") : undefined} download="audit.jsonl" data-testid="export-jsonl" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
              {t("activity.exportJsonl")}
            </a>
            <a href={hydrated ? api.exportUrl(active, "csv") : undefined} download="audit.csv" data-testid="export-csv" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
              {t("activity.exportCsv")}
            </a>
          </div>
        </div>
        {loaded.state === "loading" && <p className="text-sm text-zinc-500">{t("activity.loading")}</p>}
        {loaded.state === "failed" && (
          <p role="alert" data-testid="activity-error" className="text-sm text-rose-700 dark:text-rose-300">
            {t("activity.loadFailed", { code: loaded.code })}
          </p>
        )}
        {loaded.state === "ready" && loaded.rows.length === 0 && (
          <p data-testid="activity-empty" className="text-sm text-zinc-500">
            {t("activity.empty")}
          </p>
        )}
        {loaded.state === "ready" && loaded.rows.length > 0 && (
          <>
            <AuditTable rows={loaded.rows} />
            {loaded.next !== null && (
              <Button variant="quiet" size="xs" onClick={() => void more()} data-testid="activity-more">
                {t("activity.more")}
              </Button>
            )}
          </>
        )}
      </div>
    </PageShell>
  );
}

function AuditTable({ rows }: { rows: AuditRow[] }) {
  const t = useT();
  const locale = useLocale();
  const search = usePageSearch();
  const headings = ["time", "conversation", "tool", "decision", "decidedBy", "latency", "outcome"] as const;
  return (
    <div className="overflow-x-auto rounded-xl border border-zinc-200 dark:border-zinc-800">
      <table className="w-full text-left text-sm" data-testid="activity-table">
        <thead className="bg-zinc-50 text-xs text-zinc-500 uppercase dark:bg-zinc-950/60">
          <tr>
            {headings.map((h) => (
              <th key={h} scope="col" className="px-3 py-2 font-semibold">
                {t(`activity.${h}`)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-testid="activity-row" data-decision={row.decision} className="border-t border-zinc-100 dark:border-zinc-800">
              <td className="px-3 py-2 whitespace-nowrap">{new Date(row.at).toLocaleString(locale)}</td>
              <td className="max-w-[10rem] truncate px-3 py-2 font-mono text-xs" title={row.conversation_id}>
                {row.conversation_id}
              </td>
              <td className="px-3 py-2 font-mono text-xs">
                {row.server} / {row.tool}
              </td>
              <td className="px-3 py-2">{t(`activity.decision.${row.decision}`)}</td>
              <td className="px-3 py-2">
                {row.rule_id ? (
                  <a href={ruleHref(row.rule_id, search)} className="text-indigo-600 hover:underline dark:text-indigo-400">
                    {t(`activity.by.${row.decided_by}`)}
                  </a>
                ) : (
                  t(`activity.by.${row.decided_by}`)
                )}
              </td>
              <td className="px-3 py-2 whitespace-nowrap">{row.latency_s === null ? "—" : `${row.latency_s.toFixed(2)} s`}</td>
              <td className="px-3 py-2">{row.outcome ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
