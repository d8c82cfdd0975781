// A file taking shape while Claude writes the call, then the approval dialog on that preview,
// with the diff against the file on disk (create_file over an existing file, edit_file).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { WORKSPACE, expect, gateName, ready, release, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await ready(page);
});

const CALC = [
  '"""Operações simples, com testes."""',
  "",
  "from dataclasses import dataclass",
  "",
  "",
  "@dataclass(frozen=True)",
  "class Conta:",
  "    saldo: int = 0",
  "",
  "    def depositar(self, valor: int) -> \"Conta\":",
  "        if valor <= 0:",
  '            raise ValueError("valor precisa ser positivo")',
  "        return Conta(self.saldo + valor)",
  "",
  "    def sacar(self, valor: int) -> \"Conta\":",
  "        if valor > self.saldo:",
  '            raise ValueError("saldo insuficiente")',
  "        return Conta(self.saldo - valor)",
  "",
].join("\n");

/** Every distinct text the draft card shows from now on, and whether the dialog was open. */
async function recordDrafts(page: Page) {
  await page.evaluate(() => {
    const seen: { text: string; dialog: boolean }[] = [];
    (window as unknown as { __drafts: typeof seen }).__drafts = seen;
    new MutationObserver(() => {
      const draft = document.querySelector('[data-testid="tool-draft-content"]');
      // Only the file's content: before it starts, the card shows the input so far (JSON).
      if (!draft || draft.getAttribute("data-language") === "json") return;
      const text = [...draft.querySelectorAll("code")].map((line) => line.textContent).join("\n");
      const dialog = document.querySelector('[data-testid="approval-modal"]') !== null;
      if (text !== seen[seen.length - 1]?.text) seen.push({ text, dialog });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { __drafts: { text: string; dialog: boolean }[] }).__drafts);
}

/** `after` continues `before`: the same lines, the last one possibly longer (an empty line
 * is drawn as a space). */
function grewFrom(before: string, after: string): boolean {
  const lines = (text: string) => text.split("\n").map((line) => (line === " " ? "" : line));
  const old = lines(before);
  const now = lines(after);
  const last = old.length - 1;
  return old.every((line, n) => (n < last ? now[n] === line : (now[n] ?? "").startsWith(line)));
}

test("a file takes shape in its card before the approval dialog opens", async ({ page }) => {
  const gate = gateName("draft");
  await script("escreva conta.py", {
    text: ["Vou escrever `src/conta.py`."],
    delay_ms: 40,
    tool_uses: [
      {
        id: "toolu_e2e_draft",
        name: "create_file",
        input: { path: "src/conta.py", content: CALC },
        fragments: 40,
        hold_after: 24,
        gate,
      },
    ],
  });
  const drafts = await recordDrafts(page);
  await send(page, "escreva conta.py com uma classe Conta");

  const card = page.getByTestId("tool-output-view").last();
  await expect(card).toHaveAttribute("data-state", "drafting");
  await expect(card.getByTestId("tool-path")).toHaveText("src/conta.py");
  const draft = card.getByTestId("tool-draft-content");
  await expect(draft).toHaveAttribute("data-language", "py");
  await expect(draft).toContainText("class Conta:");
  await expect(draft.locator(".hljs-keyword").first()).toBeVisible();
  await expect(page.getByTestId("approval-modal")).toHaveCount(0);
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/file-draft.png" });

  await release(gate);
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId("approval-path")).toHaveText("src/conta.py");
  await expect(modal.getByTestId("diff-added")).toHaveText(`+${CALC.split("\n").length - 1}`);

  // The card grew: several texts, each a prefix of the next, all before the dialog.
  const seen = await drafts();
  const beforeDialog = seen.filter((entry) => !entry.dialog);
  expect(beforeDialog.length).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < beforeDialog.length; i += 1) {
    expect(grewFrom(beforeDialog[i - 1]!.text, beforeDialog[i]!.text)).toBe(true);
  }
  expect(beforeDialog[beforeDialog.length - 1]!.text.length).toBeGreaterThan(beforeDialog[0]!.text.length);

  await modal.getByRole("button", { name: "Aprovar" }).click();
  await expect(card).toHaveAttribute("data-state", "done");
  expect(await readFile(join(WORKSPACE, "src", "conta.py"), "utf8")).toBe(CALC);
  await ready(page);
});

test("overwriting a file shows the diff, unified and side by side", async ({ page }) => {
  await mkdir(join(WORKSPACE, "src"), { recursive: true });
  const before = CALC.replace("if valor > self.saldo:", "if valor >= self.saldo:").replace(
    '"saldo insuficiente"',
    '"sem saldo"',
  );
  await writeFile(join(WORKSPACE, "src", "conta.py"), before);
  await script("corrija o saque", {
    text: ["Corrigindo a comparação do saque."],
    tool_uses: [{ id: "toolu_e2e_diff", name: "create_file", input: { path: "src/conta.py", content: CALC } }],
  });
  await send(page, "corrija o saque em src/conta.py");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId("approval-overwrite")).toBeVisible();
  await expect(modal.getByTestId("diff-added")).toHaveText("+2");
  await expect(modal.getByTestId("diff-removed")).toHaveText("−2");
  const unified = modal.getByTestId("diff-unified");
  await expect(unified.locator('tr[data-kind="removed"]').first()).toContainText("if valor >= self.saldo:");
  await expect(unified.locator('tr[data-kind="added"]').first()).toContainText("if valor > self.saldo:");

  await modal.getByTestId("diff-layout-split").click();
  const split = modal.getByTestId("diff-split");
  await expect(split.locator('td[data-kind="removed"]')).toHaveCount(2);
  await expect(split.locator('td[data-kind="added"]')).toHaveCount(2);
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/diff.png" });

  await modal.getByRole("button", { name: "Negar" }).click();
  await ready(page);
  expect(await readFile(join(WORKSPACE, "src", "conta.py"), "utf8")).toBe(before);
});

test("an edit_file call shows its diff and changes only that part", async ({ page }) => {
  await mkdir(join(WORKSPACE, "docs"), { recursive: true });
  await writeFile(join(WORKSPACE, "docs", "notas.md"), "# Notas\n\n- revisar\n- publicar\n");
  await script("marque revisar", {
    text: ["Marcando a tarefa."],
    tool_uses: [
      {
        id: "toolu_e2e_edit",
        name: "edit_file",
        input: { path: "docs/notas.md", edits: [{ old: "- revisar", new: "- [x] revisar" }] },
      },
    ],
  });
  await send(page, "marque revisar como feito");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal.getByTestId("approval-tool")).toHaveText("edit_file");
  await expect(modal.getByTestId("diff-added")).toHaveText("+1");
  await expect(modal.getByTestId("diff-removed")).toHaveText("−1");
  await modal.getByRole("button", { name: "Aprovar" }).click();
  await expect(page.getByTestId("tool-output-view").last()).toHaveAttribute("data-state", "done");
  expect(await readFile(join(WORKSPACE, "docs", "notas.md"), "utf8")).toBe("# Notas\n\n- [x] revisar\n- publicar\n");
  await ready(page);
});

test("a long diff draws only the rows in view, and scrolls to its end", async ({ page }) => {
  const lines = (word: string) => Array.from({ length: 1500 }, (_, n) => `${word} ${n + 1}`).join("\n") + "\n";
  await writeFile(join(WORKSPACE, "longo.txt"), lines("antes"));
  await script("reescreva longo", {
    text: ["Reescrevendo."],
    tool_uses: [{ id: "toolu_e2e_long", name: "create_file", input: { path: "longo.txt", content: lines("depois") } }],
  });
  await send(page, "reescreva longo.txt");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal.getByTestId("diff-added")).toHaveText("+1500");
  const unified = modal.getByTestId("diff-unified");
  // The server sends at most 2,000 lines of hunks; far fewer rows are in the page at once.
  await expect(unified).toHaveAttribute("data-rows", "2001");
  await expect(unified.locator('tr[data-kind="removed"]').first()).toContainText("antes 1");
  expect(await unified.locator("tr[data-kind]").count()).toBeLessThan(200);
  await modal.getByTestId("diff-scroller").evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await expect(unified.locator('tr[data-kind="added"]').last()).toContainText("depois 500");
  await expect(modal.getByText("Diferença longa demais: só o começo é mostrado.")).toBeVisible();
  await modal.getByRole("button", { name: "Negar" }).click();
  await ready(page);
});
