"use client";
import { useState } from "react";
import type { DecidingRule } from "@/lib/chat_state";
import { browserPolicyApi, PolicyRefusal, ruleHref } from "@/lib/policy_api";
import { usePageSearch } from "@/lib/use_page_search";
import { useT } from "@/lib/use_preferences";
import { Button } from "./ui/button";

type Revoking = "idle" | "busy" | "revoked" | { failed: string };

/** A rule-decided call's line on its card: which rule, a link to it on the Rules page, and
 * "revoke" right there (a policy-file rule says it cannot be removed here). */
export function RuleDecision({ rule }: { rule: DecidingRule }) {
  const t = useT();
  const [revoking, setRevoking] = useState<Revoking>("idle");
  const href = ruleHref(rule.id, usePageSearch());

  const revoke = async () => {
    setRevoking("busy");
    try {
      await browserPolicyApi().revokeRule(rule.id);
      setRevoking("revoked");
    } catch (error) {
      // Already gone (revoked elsewhere): what the person wanted.
      if (error instanceof PolicyRefusal && error.status === 404) setRevoking("revoked");
      else setRevoking({ failed: error instanceof PolicyRefusal ? error.message : String(error) });
    }
  };

  return (
    <div
      data-testid="tool-rule"
      data-rule-id={rule.id}
      className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-100 px-4 py-2 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400"
    >
      <span>
        {t(`tool.rule.${rule.decision}`, { rule: "" })}
        <code className="rounded bg-zinc-100 px-1 font-mono dark:bg-zinc-800">{rule.label}</code>
      </span>
      {!rule.gone && (
        <a href={href} data-testid="tool-rule-link" className="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          {t("tool.rule.open")}
        </a>
      )}
      {rule.source === "policy_file" ? (
        <span data-testid="tool-rule-fixed">{t("tool.rule.fixed")}</span>
      ) : revoking === "revoked" || rule.gone ? (
        <span data-testid="tool-rule-revoked" role="status">
          {t("tool.rule.revoked")}
        </span>
      ) : (
        <Button variant="quiet" size="xs"
          onClick={() => void revoke()}
          disabled={revoking === "busy"}
          data-testid="tool-rule-revoke"
        >
          {t("tool.rule.revoke")}
        </Button>
      )}
      {typeof revoking === "object" && (
        <span role="alert" data-testid="tool-rule-error" className="text-rose-700 dark:text-rose-300">
          {revoking.failed}
        </span>
      )}
    </div>
  );
}
