// The sidebar against the real backend: conversations listed, switched, deleted (and gone from
// the API), the drawer on a narrow screen, and the screenshot of the app mid-approval.
import type { Page } from "@playwright/test";
import {
  deleteConversation,
  expect,
  lastReply,
  listConversations,
  ready,
  resetModel,
  script,
  send,
  test,
} from "./env";

test.beforeEach(async () => {
  await resetModel();
});

const sidebar = (page: Page) => page.getByRole("navigation", { name: "Conversas" });
const entry = (page: Page, title: string) =>
  sidebar(page).getByTestId("conversation-item").filter({ hasText: title });
const openButton = (page: Page, title: string) =>
  entry(page, title).getByRole("button", { name: new RegExp(`^${title}`) });
const messages = (page: Page) => page.getByTestId("message-list");
const storedSession = (page: Page) => page.evaluate(() => sessionStorage.getItem("gatehouse.session"));

test("two conversations: listed, switched with their own history, and deleted", async ({ page }) => {
  const tag = Date.now().toString(36);
  const first = `primeira conversa ${tag}`;
  const second = `segunda conversa ${tag}`;
  await page.goto("/");
  await ready(page);

  await send(page, first);
  await expect(lastReply(page)).toHaveText(`Echo: ${first}`);
  await expect(entry(page, first)).toHaveCount(1);
  await expect(openButton(page, first)).toHaveAttribute("aria-current", "page");
  const firstId = await entry(page, first).getAttribute("data-id");
  expect(firstId).toBe(await storedSession(page));

  await sidebar(page).getByRole("button", { name: "Nova conversa" }).click();
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await send(page, second);
  await expect(lastReply(page)).toHaveText(`Echo: ${second}`);
  await expect(entry(page, second)).toHaveCount(1);
  const secondId = await entry(page, second).getAttribute("data-id");
  // Newest first; the open one is marked.
  const titles = await sidebar(page).getByTestId("conversation-title").allInnerTexts();
  expect(titles.indexOf(second)).toBe(0);
  expect(titles.indexOf(first)).toBe(1);
  await expect(openButton(page, second)).toHaveAttribute("aria-current", "page");
  await expect(openButton(page, first)).not.toHaveAttribute("aria-current");

  // Switch: a new socket for that conversation, without last_seq, and its history alone.
  const socket = page.waitForEvent("websocket");
  await openButton(page, first).click();
  const url = new URL((await socket).url());
  expect(url.searchParams.get("session_id")).toBe(firstId);
  expect(url.searchParams.has("last_seq")).toBe(false);
  await expect(page.getByTestId("message-user").getByTestId("message-content")).toHaveText(first);
  await expect(lastReply(page)).toHaveText(`Echo: ${first}`);
  await expect(messages(page)).not.toContainText(second);
  await expect(page.getByTestId("conversation-heading")).toHaveText(first);
  await expect(openButton(page, first)).toHaveAttribute("aria-current", "page");
  expect(await storedSession(page)).toBe(firstId);

  // A reload stays on it, and it goes on; its new reply moves it to the top.
  await page.reload();
  await ready(page);
  await expect(lastReply(page)).toHaveText(`Echo: ${first}`);
  await expect(messages(page)).not.toContainText(second);
  await send(page, `e mais uma ${tag}`);
  await expect(lastReply(page)).toHaveText(`Echo: e mais uma ${tag}`);
  await expect(page.getByTestId("message-user")).toHaveCount(2);
  await expect(sidebar(page).getByTestId("conversation-title").first()).toHaveText(first);

  // Delete the other one: nothing happens until confirmed.
  const dialog = page.getByRole("alertdialog", { name: "Apagar conversa?" });
  await entry(page, second).getByRole("button", { name: `Apagar a conversa “${second}”` }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Cancelar" })).toBeFocused();
  await dialog.getByRole("button", { name: "Cancelar" }).click();
  await expect(dialog).toBeHidden();
  await expect(entry(page, second)).toHaveCount(1);
  expect((await listConversations()).map((c) => c.id)).toContain(secondId);

  await entry(page, second).getByRole("button", { name: `Apagar a conversa “${second}”` }).click();
  await dialog.getByRole("button", { name: "Apagar", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(entry(page, second)).toHaveCount(0);
  expect((await listConversations()).map((c) => c.id)).not.toContain(secondId);
  // The open conversation goes on untouched.
  await expect(lastReply(page)).toHaveText(`Echo: e mais uma ${tag}`);
  expect(await storedSession(page)).toBe(firstId);

  // Delete the open one: the chat moves to a new conversation.
  await entry(page, first).getByRole("button", { name: `Apagar a conversa “${first}”` }).click();
  await dialog.getByRole("button", { name: "Apagar", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(entry(page, first)).toHaveCount(0);
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await ready(page);
  expect((await listConversations()).map((c) => c.id)).not.toContain(firstId);
  expect(await storedSession(page)).not.toBe(firstId);
  await expect(page.getByTestId("notices")).toHaveCount(0);
  await send(page, `depois de apagar ${tag}`);
  await expect(lastReply(page)).toHaveText(`Echo: depois de apagar ${tag}`);
  await expect(entry(page, `depois de apagar ${tag}`)).toHaveCount(1);
});

test("deleted elsewhere: the open chat starts over and says why", async ({ page }) => {
  const text = `apagada por fora ${Date.now().toString(36)}`;
  await page.goto("/");
  await ready(page);
  await send(page, text);
  await expect(lastReply(page)).toHaveText(`Echo: ${text}`);
  const id = await storedSession(page);
  await deleteConversation(id!);
  await expect(page.getByTestId("notices")).toContainText("A conversa aberta foi apagada. Esta é uma nova.");
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await ready(page);
  expect(await storedSession(page)).not.toBe(id);
});

test("on a narrow screen the sidebar is a drawer", async ({ page }) => {
  const text = `no celular ${Date.now().toString(36)}`;
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto("/");
  await ready(page);
  await send(page, text);
  await expect(lastReply(page)).toHaveText(`Echo: ${text}`);
  await expect(sidebar(page)).toBeHidden();

  const toggle = page.getByRole("button", { name: "Abrir conversas" });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(sidebar(page)).toBeVisible();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(page.locator("#conversation-sidebar")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(sidebar(page)).toBeHidden();
  await expect(toggle).toBeFocused();

  await toggle.click();
  await sidebar(page).getByRole("button", { name: "Nova conversa" }).click();
  await expect(sidebar(page)).toBeHidden();
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await toggle.click();
  await openButton(page, text).click();
  await expect(sidebar(page)).toBeHidden();
  await expect(lastReply(page)).toHaveText(`Echo: ${text}`);
  await toggle.click();
  await page.getByRole("button", { name: "Fechar conversas" }).click();
  await expect(sidebar(page)).toBeHidden();
});

test("screenshot: a tool call awaiting approval, with the sidebar", async ({ page }) => {
  // A tidy list for the picture: only this test's conversations.
  for (const conversation of await listConversations()) await deleteConversation(conversation.id);
  await page.goto("/");
  await ready(page);
  for (const text of [
    "Resuma as novidades do Python 3.13 em cinco tópicos",
    "Como testar um hook do React com Vitest?",
    "Revise este SQL: SELECT * FROM pedidos WHERE status = 'aberto'",
  ]) {
    await send(page, text);
    await expect(lastReply(page)).toHaveText(`Echo: ${text}`);
    await sidebar(page).getByRole("button", { name: "Nova conversa" }).click();
    await expect(page.getByTestId("empty-state")).toBeVisible();
  }

  const content = [
    "# Plano do projeto",
    "",
    ...Array.from({ length: 40 }, (_, i) => `- [ ] Tarefa ${i + 1}: revisar o módulo ${i % 7} e escrever testes`),
    "",
  ].join("\n");
  await script("exemplo de função", {
    text: [
      "Claro! Um exemplo em **TypeScript**:\n\n",
      "```ts\nexport function soma(a: number, b: number): number {\n  return a + b;\n}\n```\n\n",
      "A função recebe dois números e devolve a soma. Quer que eu crie um plano com os próximos passos?",
    ],
  });
  await script("crie o plano", {
    text: ["Vou criar o arquivo `notes/passos.md` com as tarefas."],
    tool_uses: [
      { id: "toolu_e2e_shot", name: "create_file", input: { path: "notes/passos.md", content } },
    ],
  });
  await send(page, "Mostre um exemplo de função em TypeScript");
  await expect(lastReply(page)).toContainText("Quer que eu crie um plano");
  await send(page, "Agora crie o plano do projeto em notes/passos.md");
  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId("approval-path")).toHaveText("notes/passos.md");
  await expect(modal.getByTestId("approval-overwrite")).toHaveCount(0);
  // Behind the modal dialog the sidebar is hidden from assistive tech (so not found by role).
  const behind = page.locator("#conversation-nav");
  await expect(behind.getByTestId("conversation-item")).toHaveCount(4);
  await expect(
    behind.getByTestId("conversation-item").filter({ hasText: "Mostre um exemplo de função em TypeScript" }).locator("[aria-current]"),
  ).toHaveAttribute("aria-current", "page");
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/chat-ui.png" });

  await modal.getByRole("button", { name: "Aprovar" }).click();
  await expect(page.getByTestId("tool-output-view").last()).toHaveAttribute("data-state", "done");
  await ready(page);
});
