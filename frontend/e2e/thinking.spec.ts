import { expect, gateName, lastReply, modelRequests, release, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

test("the thinking block streams open, folds when the answer starts, and comes back folded", async ({ page }) => {
  const toggle = page.getByTestId("thinking-toggle");
  await toggle.click(); // checked once the server echoes the setting
  await expect(toggle).toBeChecked();
  const gate = gateName("thinking");
  await script("por que o céu", {
    thinking: ["A luz azul ", "espalha mais."],
    text: ["Por causa do espalhamento de Rayleigh."],
    thinking_hold: gate,
  });
  await send(page, "por que o céu é azul?");

  const block = page.getByTestId("thinking-block");
  await expect(page.getByTestId("thinking-text")).toHaveText("A luz azul espalha mais.");
  await expect(block).toHaveAttribute("open", "");
  await expect(block).toContainText("Pensando…");
  await release(gate);

  await expect(lastReply(page)).toContainText("Por causa do espalhamento de Rayleigh.");
  await expect(block).not.toHaveAttribute("open");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  const requests = await modelRequests();
  expect(requests[0]!.thinking?.type).toBe("enabled");

  await page.reload();
  await expect(lastReply(page)).toContainText("Rayleigh");
  await expect(block).not.toHaveAttribute("open");
  await expect(page.getByTestId("thinking-text")).toHaveText("A luz azul espalha mais.");
  await expect(page.getByTestId("thinking-toggle")).toBeChecked();
  await block.locator("summary").click(); // the person can open it
  await expect(block).toHaveAttribute("open", "");
});

test("the model picked for a conversation is used and is still picked after a reload", async ({ page }) => {
  const picker = page.getByTestId("model-picker");
  await expect(picker.locator("option", { hasText: "Claude Opus 4.6" })).toHaveCount(1);
  await expect(picker).toHaveValue("claude-sonnet-4-6");
  await picker.selectOption("claude-opus-4-6");
  await expect(picker).toHaveValue("claude-opus-4-6");
  await send(page, "qual modelo?");
  await expect(lastReply(page)).toContainText("Echo: qual modelo?");
  const requests = await modelRequests();
  expect(requests.map((r) => r.model)).toEqual(["claude-opus-4-6"]);

  await page.reload();
  await expect(lastReply(page)).toContainText("Echo: qual modelo?");
  await expect(page.getByTestId("model-picker")).toHaveValue("claude-opus-4-6");
});
