// Approval rules in the UI: the dialog's scopes (a rule made there decides the next same call,
// and its card says so and revokes it), edit before approving, the Rules page (add, search,
// revoke, a rule revoked while a call waits) and the Activity view. Every rule a test makes is
// scoped to its own folder and revoked at the end: the backend is shared with the other specs.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { APP_URL, WORKSPACE, expect, ready, resetModel, script, send, test } from "./env";

interface Rule {
  id: string;
  label: string;
  tool: string;
  conditions: { field: string; path_glob?: string | null }[];
}

async function rules(): Promise<Rule[]> {
  const response = await fetch(`${APP_URL}/api/rules`);
  expect(response.status).toBe(200);
  return (await response.json()) as Rule[];
}

/** Revoke every rule whose conditions name a path under `folder` (what a test made). */
async function revokeUnder(folder: string): Promise<void> {
  for (const rule of await rules()) {
    if (rule.conditions.some((c) => c.path_glob?.startsWith(`${folder}/`))) {
      const response = await fetch(`${APP_URL}/api/rules/${rule.id}`, { method: "DELETE" });
      expect([204, 404]).toContain(response.status);
    }
  }
}

function createFile(id: string, path: string, content = `${path}\n`) {
  return { id, name: "create_file", input: { path, content } };
}

async function openChat(page: Page): Promise<void> {
  await resetModel();
  await page.goto("/");
  await ready(page);
}

const dialog = (page: Page) => page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
const card = (page: Page, id: string) => page.locator(`[data-tool-id="${id}"]`);

test("approved for this conversation: the next same call runs unasked, its card names the rule and revokes it", async ({
  page,
}) => {
  await revokeUnder("escopo");
  await openChat(page);
  await script("escopo um", { text: ["Vou criar."], tool_uses: [createFile("toolu_scope_1", "escopo/a.txt")] });
  await send(page, "escopo um");
  const modal = dialog(page);
  await expect(modal).toBeVisible();
  await modal.getByTestId("scope-conversation").check();
  await expect(modal.getByTestId("scope-glob")).toHaveValue("escopo/**");
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/approval-scopes.png" });
  await modal.getByTestId("approve-button").click();
  await expect(card(page, "toolu_scope_1")).toHaveAttribute("data-state", "done");
  await ready(page);

  await script("escopo dois", { text: ["De novo."], tool_uses: [createFile("toolu_scope_2", "escopo/b.txt")] });
  await send(page, "escopo dois");
  const second = card(page, "toolu_scope_2");
  await expect(second).toHaveAttribute("data-state", "done");
  await expect(dialog(page)).toHaveCount(0);
  await expect(second.getByTestId("tool-rule")).toContainText("Permitida pela regra escopo/**");
  expect(existsSync(join(WORKSPACE, "escopo/b.txt"))).toBe(true);
  const ruleId = await second.getByTestId("tool-rule").getAttribute("data-rule-id");
  await expect(second.getByTestId("tool-rule-link")).toHaveAttribute("href", `/rules?rule=${ruleId}`);
  await ready(page);

  await second.getByTestId("tool-rule-revoke").click();
  await expect(second.getByTestId("tool-rule-revoked")).toHaveText("Regra revogada.");
  expect((await rules()).map((r) => r.id)).not.toContain(ruleId);
});

test("always deny: the next same call is refused by the rule, unasked", async ({ page }) => {
  await revokeUnder("negado");
  await openChat(page);
  await script("negar sempre", { text: ["Vou criar."], tool_uses: [createFile("toolu_deny_1", "negado/a.txt")] });
  await send(page, "negar sempre");
  const modal = dialog(page);
  await modal.getByTestId("scope-always").check();
  await expect(modal.getByTestId("scope-glob")).toHaveValue("negado/**");
  await modal.getByTestId("deny-button").click();
  await expect(card(page, "toolu_deny_1")).toHaveAttribute("data-state", "denied");
  await ready(page);

  // another conversation: "always" reaches every one
  await page.getByRole("button", { name: "Nova conversa" }).first().click();
  await script("negar outra", { text: ["Outra vez."], tool_uses: [createFile("toolu_deny_2", "negado/b.txt")] });
  await send(page, "negar outra");
  const second = card(page, "toolu_deny_2");
  await expect(second).toHaveAttribute("data-state", "denied");
  await expect(second.getByTestId("tool-rule")).toContainText("Negada pela regra negado/**");
  await expect(dialog(page)).toHaveCount(0);
  expect(existsSync(join(WORKSPACE, "negado/b.txt"))).toBe(false);
  await ready(page);
  await revokeUnder("negado");
});

test("edit before approving: the edited content is what lands in the workspace", async ({ page }) => {
  await openChat(page);
  await script("editar antes", {
    text: ["Vou criar."],
    tool_uses: [createFile("toolu_edit_1", "editado/note.txt", "texto do Claude\n")],
  });
  await send(page, "editar antes");
  const modal = dialog(page);
  await modal.getByTestId("edit-input").click();
  await expect(modal.getByTestId("edit-content")).toHaveValue("texto do Claude\n");
  await modal.getByTestId("edit-content").fill("texto da pessoa\n");
  await expect(modal.getByTestId("edit-note")).toBeVisible();
  await modal.getByTestId("approve-button").click();
  await expect(card(page, "toolu_edit_1")).toHaveAttribute("data-state", "done");
  expect(await readFile(join(WORKSPACE, "editado/note.txt"), "utf8")).toBe("texto da pessoa\n");
  await ready(page);
});

test("the Rules page adds, searches and revokes rules, and a rule revoked while a call waits lets it run", async ({
  page,
  context,
}) => {
  await revokeUnder("esperando");
  await revokeUnder("relatorios");
  const rulesPage = await context.newPage();
  await rulesPage.goto("/rules"); // the page's own URL, as after a reload
  await expect(rulesPage.getByRole("heading", { name: "Regras de aprovação" })).toBeVisible();

  const add = async (effect: "allow" | "deny" | "ask", glob: string, note = "") => {
    await rulesPage.getByTestId("rule-form-effect").selectOption(effect);
    await rulesPage.getByTestId("rule-form-pathGlob").fill(glob);
    await rulesPage.getByTestId("rule-form-note").fill(note);
    await rulesPage.getByTestId("rule-form-add").click();
    await expect(rulesPage.getByTestId("rule-form-pathGlob")).toHaveValue("");
  };
  await add("allow", "esperando/**", "rascunhos");
  await add("ask", "esperando/**", "confirmar sempre");
  await add("deny", "relatorios/segredos/**", "nunca");
  await add("allow", "relatorios/**");


  const items = rulesPage.getByTestId("rule-item");
  await expect(items.filter({ hasText: "esperando/**" })).toHaveCount(2);
  await expect(items.filter({ hasText: "relatorios/" })).toHaveCount(2);
  const secrets = items.filter({ hasText: "relatorios/segredos/**" });
  await expect(secrets).toContainText("Negar");
  await expect(secrets).toContainText("0 chamada(s) decidida(s) · nunca usada");
  await expect(secrets.getByTestId("rule-source")).toHaveText("Criada nesta página");
  await rulesPage.mouse.move(1, 799);
  await rulesPage.screenshot({ path: "../docs/screenshots/rules.png" });

  // a bad rule is refused with the server's reason
  await rulesPage.getByTestId("rule-form-conditions").fill('[{"field": "mode", "regex": "("}]');
  await rulesPage.getByTestId("rule-form-add").click();
  await expect(rulesPage.getByTestId("rule-form-error")).toContainText("422: conditions.0.regex");
  await rulesPage.getByTestId("rule-form-conditions").fill("");
  await rulesPage.getByTestId("rules-search").fill("segredos");
  await expect(items).toHaveCount(1);

  // The ask rule makes the person decide even where the allow matches…
  await openChat(page);
  await script("esperando regra", { text: ["Vou criar."], tool_uses: [createFile("toolu_wait_1", "esperando/a.txt")] });
  await send(page, "esperando regra");
  await expect(dialog(page)).toBeVisible();
  // …until it is revoked on the Rules page: the allow then decides the waiting call.
  await rulesPage.getByTestId("rules-search").fill("confirmar");
  await expect(items).toHaveCount(1);
  await items.getByTestId("rule-revoke").click();
  await expect(rulesPage.getByTestId("rules-empty")).toBeVisible();
  const waiting = card(page, "toolu_wait_1");
  await expect(waiting).toHaveAttribute("data-state", "done");
  await expect(dialog(page)).toHaveCount(0);
  await expect(waiting.getByTestId("tool-rule")).toContainText("Permitida pela regra esperando/**");
  expect(existsSync(join(WORKSPACE, "esperando/a.txt"))).toBe(true);
  await ready(page);

  // the card's link opens that rule on the Rules page, which now counts the call it decided
  await waiting.getByTestId("tool-rule-link").click();
  await expect(page).toHaveURL(/\/rules\?rule=/);
  const focused = page.locator('[data-testid="rule-item"][aria-current="true"]');
  await expect(focused).toContainText("esperando/**");
  await expect(focused).toContainText("1 chamada(s) decidida(s) · última:");
  await revokeUnder("esperando");
  await revokeUnder("relatorios");
});

test("the Activity view lists decisions, filters them and exports them", async ({ page }) => {
  await openChat(page);
  await script("atividade", { text: ["Vou criar."], tool_uses: [createFile("toolu_act_1", "atividade/a.txt")] });
  await send(page, "atividade");
  await dialog(page).getByTestId("deny-button").click();
  await expect(card(page, "toolu_act_1")).toHaveAttribute("data-state", "denied");
  await ready(page);

  await page.getByTestId("nav-activity").click();
  await expect(page).toHaveURL(/\/activity$/);
  const rows = page.getByTestId("activity-row");
  await expect(rows.first()).toContainText("workspace / create_file");
  await expect(rows.first()).toContainText("Negada");
  await expect(rows.first()).toContainText("Pessoa");

  await page.getByTestId("filter-decision").selectOption("allowed");
  await expect(rows.first()).toHaveAttribute("data-decision", "allowed");
  await expect(page.locator('[data-testid="activity-row"][data-decision="denied"]')).toHaveCount(0);

  const csv = page.getByTestId("export-csv");
  await expect(csv).toHaveAttribute("href", /format=csv/);
  const href = (await csv.getAttribute("href")) ?? "";
  expect(href).toContain("decision=allowed");
  const response = await fetch(href.startsWith("http") ? href : `${APP_URL}${href}`);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(text.split("\r\n")[0]).toBe(
    "id,at,conversation_id,tool_use_id,server,tool,decision,decided_by,rule_id,reason,latency_s,outcome,input,edited_input",
  );
  expect(text).not.toContain(",denied,");
  await expect(page.getByTestId("export-jsonl")).toHaveAttribute("href", /format=jsonl/);
});
