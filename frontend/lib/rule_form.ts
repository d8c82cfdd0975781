// The Rules page's "add a rule" form, turned into what POST /api/rules takes. The server checks
// it again (globs, regexes, sizes) and says why it refuses one.
import type { Effect, NewRule, RuleCondition } from "./policy_api";

export interface RuleForm {
  effect: Effect;
  server: string;
  tool: string;
  /** With a path glob: the input field it applies to (`path` by default). */
  pathField: string;
  pathGlob: string;
  /** More conditions as a JSON list: `[{"field": "mode", "equals": "w"}]`. */
  conditions: string;
  scope: "everywhere" | "conversation";
  conversationId: string;
  note: string;
}

export const EMPTY_RULE_FORM: RuleForm = {
  effect: "allow",
  server: "workspace",
  tool: "create_file",
  pathField: "path",
  pathGlob: "",
  conditions: "",
  scope: "everywhere",
  conversationId: "",
  note: "",
};

export type RuleFormResult =
  | { ok: true; rule: NewRule }
  | { ok: false; error: "bad_conditions" | "no_conversation" };

export function ruleFromForm(form: RuleForm): RuleFormResult {
  const conditions: RuleCondition[] = [];
  if (form.pathGlob.trim()) {
    conditions.push({ field: form.pathField.trim() || "path", path_glob: form.pathGlob.trim() });
  }
  if (form.conditions.trim()) {
    let extra: unknown;
    try {
      extra = JSON.parse(form.conditions);
    } catch {
      return { ok: false, error: "bad_conditions" };
    }
    if (!Array.isArray(extra) || !extra.every((c) => typeof c === "object" && c !== null && !Array.isArray(c))) {
      return { ok: false, error: "bad_conditions" };
    }
    conditions.push(...(extra as RuleCondition[]));
  }
  const rule: NewRule = {
    effect: form.effect,
    server: form.server.trim() || "*",
    tool: form.tool.trim() || "*",
    conditions,
  };
  if (form.note.trim()) rule.note = form.note.trim();
  if (form.scope === "conversation") {
    if (!form.conversationId.trim()) return { ok: false, error: "no_conversation" };
    rule.conversation_id = form.conversationId.trim();
  }
  return { ok: true, rule };
}
