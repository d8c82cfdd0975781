// Keyboard shortcuts: `?` lists them, `/` and Mod+K put the focus where one writes or searches,
// Mod+Shift+O starts a new chat, and in the approval dialog Ctrl+Enter approves.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WORKSPACE, expect, lastReply, ready, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await ready(page);
});

test("? lists the shortcuts; / and Ctrl+K move the focus; Ctrl+Shift+O starts a new chat", async ({ page }) => {
  await page.locator("body").click({ position: { x: 640, y: 300 } });
  await page.keyboard.press("?");
  const list = page.getByRole("dialog", { name: "Atalhos de teclado" });
  await expect(list).toBeVisible();
  await expect(list.getByTestId("shortcut-search")).toContainText("Buscar nas conversas");
  await page.keyboard.press("Escape");
  await expect(list).toBeHidden();

  await page.keyboard.press("Control+k");
  await expect(page.getByTestId("search-input")).toBeFocused();
  await page.keyboard.press("Escape");
  await page.getByTestId("search-input").blur();
  await page.keyboard.press("/");
  const composer = page.getByTestId("composer-input");
  await expect(composer).toBeFocused();
  await expect(composer).toHaveValue(""); // the key moved the focus; it typed nothing
  // A bare key in the composer is text, not a shortcut.
  await page.keyboard.type("2/3?");
  await expect(composer).toHaveValue("2/3?");
  await expect(list).toBeHidden();
  await composer.fill("");

  await send(page, "olá atalhos");
  await expect(lastReply(page)).toContainText("olá atalhos");
  await ready(page);
  await page.keyboard.press("Control+Shift+O");
  await expect(page.getByTestId("message-list").getByText("olá atalhos")).toHaveCount(0);
  await expect(composer).toBeFocused();
});

test("Ctrl+Enter in the approval dialog approves the call", async ({ page }) => {
  await script("crie atalho.txt", {
    text: ["Criando."],
    tool_uses: [{ id: "toolu_e2e_keys", name: "create_file", input: { path: "atalho.txt", content: "feito pelo teclado\n" } }],
  });
  await send(page, "crie atalho.txt");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal).toBeVisible();
  await page.keyboard.press("?"); // the dialog has the keys: no shortcut list over it
  await expect(page.getByTestId("shortcut-list")).toHaveCount(0);
  await page.keyboard.press("Control+Enter");
  await expect(modal).toBeHidden();
  await expect(page.getByTestId("tool-output-view").last()).toHaveAttribute("data-state", "done");
  expect(await readFile(join(WORKSPACE, "atalho.txt"), "utf8")).toBe("feito pelo teclado\n");
  await ready(page);
});
