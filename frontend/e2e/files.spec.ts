// Versions and undo in the browser: the tool card's undo and redo, the changed-since refusal
// with its diff, and the Files panel (tree, versions with who wrote them, diff, restore).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WORKSPACE, expect, ready, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await ready(page);
});

test("a call's change is undone, redone, refused once changed on disk, and restored from the Files panel", async ({
  page,
}) => {
  test.slow(); // one long story: undo, redo, a refusal, the panel, a restore
  const target = join(WORKSPACE, "versoes/lista.md");
  await mkdir(join(WORKSPACE, "versoes"), { recursive: true });
  await writeFile(target, "original\n");
  await script("reescreva a lista", {
    text: ["Vou reescrever."],
    tool_uses: [
      { id: "toolu_e2e_versions", name: "create_file", input: { path: "versoes/lista.md", content: "nova versão\n" } },
    ],
  });
  await send(page, "reescreva a lista");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await modal.getByRole("button", { name: "Aprovar" }).click();
  const card = page.locator('[data-testid="tool-output-view"][data-tool-id="toolu_e2e_versions"]');
  await expect(card).toHaveAttribute("data-state", "done");
  expect(await readFile(target, "utf8")).toBe("nova versão\n");

  // Undo, then redo, from the card.
  const actions = card.getByTestId("file-change-actions");
  await actions.getByRole("button", { name: "Desfazer", exact: true }).click();
  await expect(actions.getByTestId("undo-message")).toHaveText("Alterações desfeitas.");
  await expect(actions).toHaveAttribute("data-undone", "true");
  expect(await readFile(target, "utf8")).toBe("original\n");
  await actions.getByRole("button", { name: "Refazer" }).click();
  await expect(actions).toHaveAttribute("data-undone", "false");
  expect(await readFile(target, "utf8")).toBe("nova versão\n");

  // Changed on disk since: refused, nothing overwritten, the diff offered instead.
  await writeFile(target, "mudado à mão\n");
  await actions.getByRole("button", { name: "Desfazer", exact: true }).click();
  await expect(actions.getByTestId("undo-message")).toContainText("O arquivo mudou desde que o Claude o escreveu");
  expect(await readFile(target, "utf8")).toBe("mudado à mão\n");
  await actions.getByRole("button", { name: "Comparar · versoes/lista.md" }).click();
  const diff = actions.getByTestId("diff-view");
  await expect(diff.locator('[data-kind="removed"]')).toContainText(["nova versão"]);
  await expect(diff.locator('[data-kind="added"]')).toContainText(["mudado à mão"]);

  // The Files panel: the tree, the file changed outside Gatehouse, its versions and who wrote them.
  await page.getByTestId("files-open").click();
  const panel = page.getByRole("dialog", { name: "Arquivos do workspace" });
  await expect(panel).toBeFocused(); // focus moves in
  await expect(panel.getByTestId("files-tree")).toContainText("versoes/");
  await panel.locator('[data-testid="files-entry"][data-path="versoes/lista.md"]').click();
  await expect(panel.getByTestId("changed-outside")).toHaveText("Alterado fora do Gatehouse");
  const versions = panel.getByTestId("file-version");
  await expect(versions).toHaveCount(3);
  await expect(versions.nth(0)).toHaveAttribute("data-source", "redo");
  await expect(versions.nth(1)).toHaveAttribute("data-source", "undo");
  const written = versions.nth(2);
  await expect(written).toHaveAttribute("data-source", "tool");
  await expect(written.getByTestId("version-origin")).toHaveText("reescreva a lista · turno 0");
  await expect(written.getByRole("link", { name: "Baixar" })).toHaveAttribute("href", /download=true/);

  await written.getByRole("button", { name: "Diferenças" }).click();
  const shown = panel.getByTestId("file-shown");
  await expect(shown.locator('[data-kind="removed"]')).toContainText(["original"]);
  await expect(shown.locator('[data-kind="added"]')).toContainText(["nova versão"]);
  await expect(shown.getByTestId("diff-added")).toHaveText("+1");
  await expect(shown.getByTestId("diff-removed")).toHaveText("−1");
  await written.getByRole("button", { name: "Ver" }).click();
  await expect(shown.getByTestId("file-text")).toHaveText("nova versão\n", { useInnerText: false });

  // Restore the version Claude wrote: the person saw the file as it is now, so it goes ahead,
  // and what it replaced is kept as a version too.
  await written.getByRole("button", { name: "Restaurar" }).click();
  await expect(panel.getByTestId("files-notice")).toHaveText("Arquivo restaurado.");
  expect(await readFile(target, "utf8")).toBe("nova versão\n");
  await expect(versions).toHaveCount(4);
  await expect(versions.nth(0)).toHaveAttribute("data-source", "restore");
  await expect(panel.getByTestId("changed-outside")).toHaveCount(0);
  await page.screenshot({ path: "../docs/screenshots/files-panel.png" });

  // Esc closes the panel and focus goes back to the Files button.
  await page.keyboard.press("Escape");
  await expect(panel).toHaveCount(0);
  await expect(page.getByTestId("files-open")).toBeFocused();
});
