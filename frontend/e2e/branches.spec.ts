// Retry and edit & branch, in Debian's Chromium against the real backend: an edit makes a
// second version of the person's message (`< 2/2 >`), switching back shows the first one with
// its reply, and Retry answers the last message again as another version of the reply.
import { expect, lastReply, modelRequests, ready, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await ready(page);
});

test("edit a message, switch between its versions, and retry the last reply", async ({ page }) => {
  await send(page, "Qual é a capital de Portugal?");
  await expect(lastReply(page)).toContainText("Echo: Qual é a capital de Portugal?");
  await ready(page);

  const asked = page.getByTestId("message-user").first();
  await asked.hover();
  await asked.getByTestId("edit-message").click();
  const editor = page.getByTestId("message-editor");
  await editor.getByRole("textbox").press("Escape"); // Escape cancels: nothing is sent
  await expect(editor).toHaveCount(0);
  await asked.hover();
  await asked.getByTestId("edit-message").click();
  await editor.getByRole("textbox").fill("Qual é a capital da Espanha?");
  await editor.getByRole("button", { name: "Salvar e enviar" }).click();

  await expect(lastReply(page)).toContainText("Echo: Qual é a capital da Espanha?");
  await ready(page);
  const position = page.getByTestId("message-user").first().getByTestId("branch-position");
  await expect(position).toHaveText("2/2");
  await expect(page.getByTestId("message-assistant")).toHaveCount(1);
  // Claude was sent the edited message only, not the version it replaced nor its reply.
  const requests = await modelRequests();
  expect(requests.at(-1)!.messages).toMatchObject([
    { role: "user", content: [{ type: "text", text: "Qual é a capital da Espanha?" }] },
  ]);
  await page.mouse.move(1, 799);
  await page.screenshot({ path: "../docs/screenshots/branches.png" });

  await page.getByTestId("message-user").first().getByRole("button", { name: "Versão anterior" }).click();
  await expect(position).toHaveText("1/2");
  await expect(page.getByTestId("message-user").first()).toContainText("Qual é a capital de Portugal?");
  await expect(lastReply(page)).toContainText("Echo: Qual é a capital de Portugal?");

  await script("capital de Portugal", { text: ["Lisboa."] });
  await page.getByTestId("retry").click();
  await expect(lastReply(page)).toContainText("Lisboa.");
  await ready(page);
  const reply = page.getByTestId("message-assistant").last();
  await expect(reply.getByTestId("branch-position")).toHaveText("2/2");
  await reply.getByRole("button", { name: "Versão anterior" }).click();
  await expect(reply.getByTestId("branch-position")).toHaveText("1/2");
  await expect(lastReply(page)).toContainText("Echo: Qual é a capital de Portugal?");
});
