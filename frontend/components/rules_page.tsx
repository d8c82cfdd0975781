"use client";
import { useEffect, useState, type FormEvent } from "react";
import { browserPolicyApi, PolicyRefusal, type PolicyApi, type RuleView } from "@/lib/policy_api";
import { EMPTY_RULE_FORM, ruleFromForm, type RuleForm } from "@/lib/rule_form";
import { usePageSearch } from "@/lib/use_page_search";
import { useLocale, useT } from "@/lib/use_preferences";
import { PageShell } from "./page_shell";
import { Button } from "./ui/button";

const INPUT =
  "w-full rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
const EFFECT_CHIP: Record<RuleView["effect"], string> = {
  allow: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-200",
  deny: "bg-rose-100 text-rose-800 dark:bg-rose-900/50 dark:text-rose-200",
  ask: "bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-200",
};

type Loaded = { state: "loading" } | { state: "failed"; code: string } | { state: "ready"; rules: RuleView[] };

const failure = (error: unknown) => (error instanceof PolicyRefusal ? `${error.status}: ${error.message}` : String(error));

/** The Rules page: every rule in force, searchable; revoke; add one by hand. */
export function RulesPage({ api: given }: { api?: PolicyApi }) {
  const t = useT();
  const [api] = useState(() => given ?? browserPolicyApi());
  const [query, setQuery] = useState("");
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  const [actionError, setActionError] = useState<string | null>(null);
  const focused = new URLSearchParams(usePageSearch()).get("rule");

  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);

  useEffect(() => {
    // Only the answer to the latest search (or reload) is shown.
    let current = true;
    api.rules(query).then(
      (rules) => current && setLoaded({ state: "ready", rules }),
      (error: unknown) => current && setLoaded({ state: "failed", code: failure(error) }),
    );
    return () => {
      current = false;
    };
  }, [api, query, version]);
  useEffect(() => {
    if (focused && loaded.state === "ready") document.getElementById(`rule-${focused}`)?.scrollIntoView({ block: "center" });
  }, [focused, loaded]);

  const revoke = async (rule: RuleView) => {
    setActionError(null);
    try {
      await api.revokeRule(rule.id);
    } catch (error) {
      if (!(error instanceof PolicyRefusal && error.status === 404)) {
        setActionError(t("rules.revokeFailed", { code: failure(error) }));
      }
    }
    reload();
  };

  return (
    <PageShell page="rules" title={t("rules.title")}>
      <div className="space-y-6">
        <AddRule api={api} onAdded={reload} />
        <input
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder={t("rules.search")}
          aria-label={t("rules.search")}
          maxLength={200}
          data-testid="rules-search"
          className={INPUT}
        />
        {actionError && (
          <p role="alert" data-testid="rules-action-error" className="text-sm text-rose-700 dark:text-rose-300">
            {actionError}
          </p>
        )}
        {loaded.state === "loading" && <p className="text-sm text-zinc-500">{t("rules.loading")}</p>}
        {loaded.state === "failed" && (
          <p role="alert" data-testid="rules-error" className="text-sm text-rose-700 dark:text-rose-300">
            {t("rules.loadFailed", { code: loaded.code })}
          </p>
        )}
        {loaded.state === "ready" && loaded.rules.length === 0 && (
          <p data-testid="rules-empty" className="text-sm text-zinc-500">
            {t("rules.empty")}
          </p>
        )}
        {loaded.state === "ready" && loaded.rules.length > 0 && (
          <ul className="space-y-2" data-testid="rules-list">
            {loaded.rules.map((rule) => (
              <RuleItem key={rule.id} rule={rule} focused={rule.id === focused} onRevoke={() => void revoke(rule)} />
            ))}
          </ul>
        )}
      </div>
    </PageShell>
  );
}

function RuleItem({ rule, focused, onRevoke }: { rule: RuleView; focused: boolean; onRevoke: () => void }) {
  const t = useT();
  const locale = useLocale();
  const when = rule.last_used_at ? new Date(rule.last_used_at).toLocaleString(locale) : null;
  return (
    <li
      id={`rule-${rule.id}`}
      data-testid="rule-item"
      data-rule-id={rule.id}
      aria-current={focused ? "true" : undefined}
      className={`flex flex-wrap items-center gap-x-3 gap-y-1 rounded-xl border bg-white px-4 py-3 text-sm sm:flex-nowrap dark:bg-zinc-900 ${
        focused ? "border-indigo-500 ring-2 ring-indigo-500/40" : "border-zinc-200 dark:border-zinc-800"
      }`}
    >
      <div className="flex min-w-0 flex-1 flex-wrap items-center gap-x-3 gap-y-1">
        <span className={`rounded-full px-2 py-0.5 text-[11px] font-semibold uppercase ${EFFECT_CHIP[rule.effect]}`}>
          {t(`rules.effect.${rule.effect}`)}
        </span>
        <code className="font-mono font-medium" data-testid="rule-label">
          {rule.label}
        </code>
        <span className="font-mono text-xs text-zinc-500">
          {rule.server} / {rule.tool}
        </span>
        {rule.conversation_id && (
          <span className="text-xs text-zinc-500">{t("rules.inConversation", { id: rule.conversation_id })}</span>
        )}
        {rule.note && <span className="text-xs text-zinc-500 italic">{rule.note}</span>}
      </div>
      <div className="flex shrink-0 flex-wrap items-center gap-x-3 gap-y-1 text-xs text-zinc-500">
        <span data-testid="rule-usage">
          {t("rules.decided", { n: rule.decided })} · {when ? t("rules.lastUsed", { when }) : t("rules.neverUsed")}
        </span>
        <span data-testid="rule-source">{t(`rules.source.${rule.source}`)}</span>
        {rule.removable ? (
          <Button variant="quiet" size="xs"
            onClick={onRevoke}
            data-testid="rule-revoke"
          >
            {t("rules.revoke")}
          </Button>
        ) : (
          <span data-testid="rule-fixed">{t("rules.fixed")}</span>
        )}
      </div>
    </li>
  );
}

function AddRule({ api, onAdded }: { api: PolicyApi; onAdded: () => void }) {
  const t = useT();
  const [form, setForm] = useState<RuleForm>(EMPTY_RULE_FORM);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = ruleFromForm(form);
    if (!result.ok) {
      setError(t(result.error === "bad_conditions" ? "rules.badConditions" : "rules.noConversation"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.addRule(result.rule);
      setForm(EMPTY_RULE_FORM);
      onAdded();
    } catch (failed) {
      setError(t("rules.addFailed", { message: failure(failed) }));
    } finally {
      setBusy(false);
    }
  };

  const field = (key: "server" | "tool" | "pathField" | "pathGlob" | "note", label: string, maxLength: number) => (
    <label className="space-y-1 text-sm">
      <span className="text-zinc-600 dark:text-zinc-400">{label}</span>
      <input
        type="text"
        value={form[key]}
        maxLength={maxLength}
        onChange={(event) => set(key, event.target.value)}
        data-testid={`rule-form-${key}`}
        className={`${INPUT} font-mono`}
      />
    </label>
  );

  return (
    <form
      onSubmit={(event) => void submit(event)}
      data-testid="rule-form"
      className="grid gap-3 rounded-xl border border-zinc-200 bg-white p-4 sm:grid-cols-3 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <label className="space-y-1 text-sm">
        <span className="text-zinc-600 dark:text-zinc-400">{t("rules.effect")}</span>
        <select
          value={form.effect}
          onChange={(event) => set("effect", event.target.value as RuleForm["effect"])}
          data-testid="rule-form-effect"
          className={INPUT}
        >
          {(["allow", "deny", "ask"] as const).map((effect) => (
            <option key={effect} value={effect}>
              {t(`rules.effect.${effect}`)}
            </option>
          ))}
        </select>
      </label>
      {field("server", t("rules.server"), 64)}
      {field("tool", t("rules.tool"), 128)}
      {field("pathField", t("rules.pathField"), 64)}
      {field("pathGlob", t("rules.pathGlob"), 256)}
      {field("note", t("rules.note"), 200)}
      <label className="space-y-1 text-sm sm:col-span-3">
        <span className="text-zinc-600 dark:text-zinc-400">{t("rules.conditions")}</span>
        <textarea
          value={form.conditions}
          rows={2}
          spellCheck={false}
          placeholder='[{"field": "mode", "equals": "w"}]'
          onChange={(event) => set("conditions", event.target.value)}
          data-testid="rule-form-conditions"
          className={`${INPUT} font-mono text-xs`}
        />
      </label>
      <fieldset className="flex flex-wrap items-center gap-3 text-sm sm:col-span-2">
        <legend className="sr-only">{t("rules.scope")}</legend>
        {(["everywhere", "conversation"] as const).map((scope) => (
          <label key={scope} className="inline-flex items-center gap-1.5">
            <input
              type="radio"
              name="rule-scope"
              checked={form.scope === scope}
              onChange={() => set("scope", scope)}
              data-testid={`rule-form-scope-${scope}`}
            />
            {t(`rules.scope.${scope}`)}
          </label>
        ))}
        {form.scope === "conversation" && (
          <input
            type="text"
            value={form.conversationId}
            maxLength={64}
            aria-label={t("rules.conversationId")}
            placeholder={t("rules.conversationId")}
            onChange={(event) => set("conversationId", event.target.value)}
            data-testid="rule-form-conversation"
            className={`${INPUT} w-auto flex-1 font-mono`}
          />
        )}
      </fieldset>
      <Button type="submit" variant="primary" size="sm" disabled={busy} data-testid="rule-form-add">
        {t("rules.add")}
      </Button>
      {error && (
        <p role="alert" data-testid="rule-form-error" className="text-sm text-rose-700 sm:col-span-3 dark:text-rose-300">
          {error}
        </p>
      )}
    </form>
  );
}
