import { expect, lastReply, modelRequests, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

test("a reply cut at the length limit is marked, and Continue goes on in the same bubble", async ({ page }) => {
  await script("conte uma história", { text: ["Era uma vez ", "um castelo"], stop_reason: "max_tokens" });
  await script("conte uma história", { text: [" no alto da serra."] });
  await send(page, "conte uma história longa");

  const bubble = page.getByTestId("message-assistant").last();
  await expect(bubble.getByTestId("cut-notice")).toContainText("atingiu o limite de tamanho");
  await expect(lastReply(page)).toContainText("Era uma vez um castelo");
  await bubble.getByRole("button", { name: "Continuar" }).click();

  await expect(lastReply(page)).toContainText("Era uma vez um castelo no alto da serra.");
  await expect(bubble.getByTestId("cut-notice")).toHaveCount(0);
  await expect(page.getByTestId("message-assistant")).toHaveCount(1);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  // The continuation asked Claude to go on from the cut reply: it is the request's last message.
  const requests = await modelRequests();
  expect(requests).toHaveLength(2);
  expect(requests[1]!.messages.at(-1)).toEqual({
    role: "assistant",
    content: [{ type: "text", text: "Era uma vez um castelo" }],
  });
});

test("a refusal is shown as such, with no Continue", async ({ page }) => {
  await script("algo proibido", { text: ["Vou "], stop_reason: "refusal" });
  await send(page, "algo proibido");

  const bubble = page.getByTestId("message-assistant").last();
  await expect(bubble.getByTestId("refusal-notice")).toHaveText("O Claude se recusou a responder.");
  await expect(bubble.getByRole("button", { name: "Continuar" })).toHaveCount(0);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(page.getByTestId("composer-input")).toBeEnabled();
});
