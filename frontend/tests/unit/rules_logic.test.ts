import { describe, expect, it } from "vitest";
import { pageHref } from "@/lib/page_links";
import { refusalText, ruleHref } from "@/lib/policy_api";
import { EMPTY_RULE_FORM, ruleFromForm } from "@/lib/rule_form";

describe("the Rules page's form", () => {
  it("makes a rule with a path glob on the named field, scoped to one conversation", () => {
    const form = { ...EMPTY_RULE_FORM, pathGlob: " notes/** ", scope: "conversation" as const, conversationId: "c1" };
    expect(ruleFromForm(form)).toEqual({
      ok: true,
      rule: {
        effect: "allow",
        server: "workspace",
        tool: "create_file",
        conditions: [{ field: "path", path_glob: "notes/**" }],
        conversation_id: "c1",
      },
    });
  });

  it("adds the JSON conditions, and refuses what is not a list of objects", () => {
    const extra = { ...EMPTY_RULE_FORM, effect: "deny" as const, server: " ", conditions: '[{"field": "mode", "equals": "w"}]' };
    expect(ruleFromForm(extra)).toMatchObject({
      ok: true,
      rule: { effect: "deny", server: "*", conditions: [{ field: "mode", equals: "w" }] },
    });
    expect(ruleFromForm({ ...EMPTY_RULE_FORM, conditions: '{"field": "x"}' })).toEqual({ ok: false, error: "bad_conditions" });
    expect(ruleFromForm({ ...EMPTY_RULE_FORM, conditions: "[1]" })).toEqual({ ok: false, error: "bad_conditions" });
    expect(ruleFromForm({ ...EMPTY_RULE_FORM, scope: "conversation" })).toEqual({ ok: false, error: "no_conversation" });
  });
});

describe("policy API helpers", () => {
  it("words FastAPI's refusals in one line", () => {
    expect(refusalText(409, { detail: "this rule is set in POLICY_FILE" })).toBe("this rule is set in POLICY_FILE");
    const invalid = { detail: [{ loc: ["body", "tool"], msg: "Value error, not a valid glob" }] };
    expect(refusalText(422, invalid)).toBe("tool: Value error, not a valid glob");
    expect(refusalText(500, null)).toBe("HTTP 500");
  });

  it("keeps the page's token on links between pages", () => {
    expect(ruleHref("r1", "?token=s3cret")).toBe("/rules?token=s3cret&rule=r1");
    expect(ruleHref("r1", "")).toBe("/rules?rule=r1");
    expect(pageHref("activity", "?token=a b")).toBe("/activity?token=a+b");
    expect(pageHref("chat", "?x=1")).toBe("/");
  });
});
