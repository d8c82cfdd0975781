// The rules and the audit trail over HTTP (/api/rules, /api/audit): the Rules page, the
// Activity view and a rule-decided tool card's "revoke" reach the server through this.
import { apiBase, pageToken } from "./conversations_api";
import { socketBase } from "./ws_url";

export type Effect = "allow" | "deny" | "ask";
export type RuleSource = "dialog" | "settings" | "policy_file";

export interface RuleCondition {
  field: string;
  path_glob?: string | null;
  equals?: string | null;
  regex?: string | null;
}

export interface NewRule {
  effect: Effect;
  server: string;
  tool: string;
  conditions: RuleCondition[];
  note?: string;
  conversation_id?: string;
}

export interface RuleView extends Required<Omit<NewRule, "conversation_id">> {
  id: string;
  label: string;
  conversation_id: string | null;
  source: RuleSource;
  created_at: string;
  removable: boolean;
  decided: number;
  last_used_at: string | null;
}

export type AuditDecision = "allowed" | "denied" | "expired";
export type AuditDecidedBy = "person" | "rule" | "timeout" | "expiry";

export interface AuditRow {
  id: number;
  at: string;
  conversation_id: string;
  tool_use_id: string;
  server: string;
  tool: string;
  decision: AuditDecision;
  decided_by: AuditDecidedBy;
  rule_id: string | null;
  reason: string | null;
  latency_s: number | null;
  outcome: string | null;
}

export interface AuditFilters {
  conversation_id?: string;
  server?: string;
  tool?: string;
  decision?: AuditDecision;
  decided_by?: AuditDecidedBy;
  rule_id?: string;
}

export interface AuditPage {
  rows: AuditRow[];
  /** Pass back as `cursor` for the next (older) page; null on the last. */
  next: number | null;
}

/** A refused request: the HTTP status and the server's reason, worded for people. */
export class PolicyRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "PolicyRefusal";
    this.status = status;
  }
}

export interface PolicyApi {
  rules(query?: string): Promise<RuleView[]>;
  addRule(rule: NewRule): Promise<RuleView>;
  revokeRule(id: string): Promise<void>;
  audit(filters: AuditFilters, cursor?: number | null, limit?: number): Promise<AuditPage>;
  exportUrl(filters: AuditFilters, format: "jsonl" | "csv"): string;
}

/** FastAPI's `detail`: a string, or (422) a list of pydantic errors; one line either way. */
export function refusalText(status: number, body: unknown): string {
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const lines = detail.map((item: unknown) => {
      const { loc, msg } = (item ?? {}) as { loc?: unknown[]; msg?: unknown };
      const where = Array.isArray(loc) ? loc.filter((part) => part !== "body").join(".") : "";
      return `${where ? `${where}: ` : ""}${typeof msg === "string" ? msg : "invalid"}`;
    });
    if (lines.length) return lines.join("; ");
  }
  return `HTTP ${status}`;
}

function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function httpPolicyApi(options: { base: () => string; token: () => string | null }): PolicyApi {
  const url = (path: string, values: Record<string, string | number | undefined | null> = {}) =>
    `${options.base()}/api${path}${query({ ...values, token: options.token() })}`;
  const send = async (method: "GET" | "POST" | "DELETE", target: string, body?: unknown) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(target, {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const answer: unknown = await response.json().catch(() => null);
      throw new PolicyRefusal(response.status, refusalText(response.status, answer));
    }
    return response;
  };

  return {
    rules: async (q = "") => (await (await send("GET", url("/rules", { q }))).json()) as RuleView[],
    addRule: async (rule) => (await (await send("POST", url("/rules"), rule)).json()) as RuleView,
    async revokeRule(id) {
      await send("DELETE", url(`/rules/${encodeURIComponent(id)}`));
    },
    async audit(filters, cursor = null, limit = 50) {
      const response = await send("GET", url("/audit", { ...filters, cursor, limit }));
      const next = response.headers.get("X-Next-Cursor");
      return { rows: (await response.json()) as AuditRow[], next: next ? Number(next) : null };
    },
    exportUrl: (filters, format) => url("/audit", { ...filters, format }),
  };
}

export function browserPolicyApi(): PolicyApi {
  return httpPolicyApi({
    base: () => apiBase(socketBase(window.location, process.env.NEXT_PUBLIC_WS_URL)),
    token: () => pageToken(window.location.search),
  });
}

/** Where the Rules page shows one rule (the card's link), keeping the page's `?token=`. */
export function ruleHref(id: string, pageSearch: string): string {
  const token = pageToken(pageSearch);
  return `/rules${query({ token, rule: id })}`;
}
