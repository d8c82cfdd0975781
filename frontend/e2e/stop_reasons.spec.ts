import { expect, lastReply, modelRequests, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

test("a reply cut at the length limit is marked, and Continue goes on in the same bubble", async ({ page }) => {
  await script("conte uma história", { text: ["Era uma vez ", "um castelo"], stop_reason: "max_tokens" });
  // The app's model (claude-sonnet-4-6) takes no prefill: Claude is asked to go on in a user turn.
  await script("token limit", { text: [" no alto da serra."] });
  await send(page, "conte uma história longa");

  const bubble = page.getByTestId("message-assistant").last();
  await expect(bubble.getByTestId("cut-notice")).toContainText("atingiu o limite de tamanho");
  await expect(lastReply(page)).toContainText("Era uma vez um castelo");
  await bubble.getByRole("button", { name: "Continuar" }).click();

  await expect(lastReply(page)).toContainText("Era uma vez um castelo no alto da serra.");
  await expect(bubble.getByTestId("cut-notice")).toHaveCount(0);
  await expect(page.getByTestId("message-assistant")).toHaveCount(1);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  // The continuation asked Claude to go on from the cut reply, in a user turn the person never sees.
  const requests = await modelRequests();
  expect(requests).toHaveLength(2);
  expect(requests[1]!.messages.at(-2)).toEqual({
    role: "assistant",
    content: [{ type: "text", text: "Era uma vez um castelo" }],
  });
  expect(requests[1]!.messages.at(-1)).toMatchObject({ role: "user" });
  await expect(page.getByTestId("message-user")).toHaveCount(1);
});

test("after a reload a refusal is still shown as one, and the cut reply can still be continued", async ({
  page,
}) => {
  await script("algo proibido", { text: ["Não vou "], stop_reason: "refusal" });
  await script("uma lenda", { text: ["Dizem que ", "um dragão"], stop_reason: "max_tokens" });
  await script("token limit", { text: [" dormia na serra."] });
  await send(page, "algo proibido");
  await expect(page.getByTestId("refusal-notice")).toHaveCount(1);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await send(page, "conte uma lenda");
  await expect(page.getByTestId("cut-notice")).toHaveCount(1);

  await page.reload();
  const bubbles = page.getByTestId("message-assistant");
  await expect(bubbles).toHaveCount(2);
  await expect(bubbles.first().getByTestId("refusal-notice")).toHaveText("O Claude se recusou a responder.");
  await expect(bubbles.first().getByRole("button", { name: "Continuar" })).toHaveCount(0);
  await expect(bubbles.last().getByTestId("cut-notice")).toContainText("atingiu o limite de tamanho");
  await bubbles.last().getByRole("button", { name: "Continuar" }).click();

  await expect(lastReply(page)).toContainText("Dizem que um dragão dormia na serra.");
  await expect(bubbles.last().getByTestId("cut-notice")).toHaveCount(0);
  await expect(bubbles).toHaveCount(2);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
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
