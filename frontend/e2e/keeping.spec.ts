// Finding and keeping, in Debian's Chromium against the real backend: search from the sidebar
// with highlighted matches (and its screenshot), rename and pin, export and import, copying a
// code block, and where focus goes after approving or denying a tool call.
import type { Page } from "@playwright/test";
import { deleteConversation, expect, lastReply, listConversations, ready, resetModel, script, send, test } from "./env";

test.beforeEach(async () => {
  await resetModel();
});

const sidebar = (page: Page) => page.getByRole("navigation", { name: "Conversas" });
const entry = (page: Page, title: string) =>
  sidebar(page).getByTestId("conversation-item").filter({ hasText: title });

async function chat(page: Page, text: string): Promise<void> {
  await send(page, text);
  await expect(lastReply(page)).toHaveText(`Echo: ${text}`);
  await sidebar(page).getByRole("button", { name: "Nova conversa" }).click();
  await expect(page.getByTestId("empty-state")).toBeVisible();
}

test("search finds conversations by their text, marks the matches, and opens one", async ({ page }) => {
  for (const conversation of await listConversations()) await deleteConversation(conversation.id);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/");
  await ready(page);
  await chat(page, "Roteiro de viagem para Lisboa em maio");
  await chat(page, "Receita de pastel de nata sem glúten");
  await chat(page, "Como configurar o PostgreSQL para busca textual");
  await script("Lisboa", { text: ["Em Lisboa, visite Alfama e Belém; em Lisboa, o elétrico 28 é imperdível."] });
  await send(page, "E o que ver em Lisboa num fim de semana?");
  await expect(lastReply(page)).toContainText("elétrico 28");

  await sidebar(page).getByTestId("search-input").fill("lisboa");
  const results = sidebar(page).getByTestId("search-result");
  await expect(results).toHaveCount(2);
  await expect(sidebar(page).getByTestId("search-hit").first()).toHaveText(/lisboa/i);
  await expect(sidebar(page).getByTestId("conversation-list")).toHaveCount(0);
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/search.png" });

  // Odd input is no error: just nothing found.
  await sidebar(page).getByTestId("search-input").fill('"lisboa" * -');
  await expect(results).toHaveCount(2);
  await sidebar(page).getByTestId("search-input").fill('")(*^');
  await expect(sidebar(page).getByTestId("search-empty")).toBeVisible();

  await sidebar(page).getByTestId("search-input").fill("roteiro");
  await expect(results).toHaveCount(1);
  await results.first().click();
  await expect(page.getByTestId("message-user").first()).toContainText("Roteiro de viagem para Lisboa");
});

test("rename, pin, export and import from the sidebar", async ({ page }) => {
  const tag = Date.now().toString(36);
  await page.goto("/");
  await ready(page);
  await chat(page, `primeira ${tag}`);
  await chat(page, `segunda ${tag}`);

  await entry(page, `primeira ${tag}`).hover();
  await entry(page, `primeira ${tag}`).getByTestId("pin-conversation").click();
  await expect(entry(page, `primeira ${tag}`)).toHaveAttribute("data-pinned", "true");
  await expect(sidebar(page).getByTestId("conversation-item").first()).toContainText(`primeira ${tag}`);

  await entry(page, `segunda ${tag}`).hover();
  await entry(page, `segunda ${tag}`).getByTestId("rename-conversation").click();
  const field = sidebar(page).getByTestId("rename-input");
  await field.fill(`renomeada ${tag}`);
  await field.press("Enter");
  await expect(entry(page, `renomeada ${tag}`)).toHaveCount(1);
  const stored = (await listConversations()).find((c) => c.title === `renomeada ${tag}`);
  expect(stored).toBeDefined();

  await entry(page, `renomeada ${tag}`).hover();
  const download = page.waitForEvent("download");
  await entry(page, `renomeada ${tag}`).getByTestId("export-json").click();
  const file = await download;
  const path = await file.path();
  expect(file.suggestedFilename()).toMatch(/^gatehouse-.*\.json$/);

  await sidebar(page).getByTestId("import-input").setInputFiles(path);
  await expect(entry(page, `renomeada ${tag}`)).toHaveCount(2);
  await expect(page.getByTestId("message-user").first()).toContainText(`segunda ${tag}`);
});

test("after approving or denying, focus is on the tool call's card", async ({ page }) => {
  await page.goto("/");
  await ready(page);
  for (const [id, approve] of [
    ["toolu_focus_yes", true],
    ["toolu_focus_no", false],
  ] as const) {
    await script(`foco ${id}`, {
      text: ["Vou escrever."],
      tool_uses: [{ id, name: "create_file", input: { path: `notes/${id}.txt`, content: "oi" } }],
    });
    await send(page, `foco ${id}`);
    const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
    await expect(modal).toBeVisible();
    await modal.getByRole("button", { name: approve ? "Aprovar" : "Negar" }).click();
    await expect(modal).toBeHidden();
    const card = page.locator(`[data-tool-id="${id}"]`);
    await expect(card).toBeFocused();
    await ready(page);
  }
});

test("a code block and a whole message can be copied", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/");
  await ready(page);
  await script("copie", { text: ["Aqui:\n\n```py\nprint('oi')\n```\n\nPronto."] });
  await send(page, "copie um exemplo");
  await expect(lastReply(page)).toContainText("Pronto.");
  await lastReply(page).locator("pre").hover();
  await lastReply(page).getByTestId("copy-code").click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("print('oi')\n");
  const bubble = page.getByTestId("message-assistant").last(); // the button sits under the reply
  await bubble.hover();
  await bubble.getByTestId("copy-message").click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
    "Aqui:\n\n```py\nprint('oi')\n```\n\nPronto.",
  );
});
