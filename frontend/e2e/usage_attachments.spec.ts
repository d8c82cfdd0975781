// What a reply costs (a quiet line under it, the conversation's total in the header) and an
// image attached by the button: sent, shown, and shown again after a reload.
import { expect, modelRequests, resetModel, script, send, test } from "./env";

// Every count replaces what the model server would estimate: the figures below are exact.
const USAGE = {
  input_tokens: 1000,
  output_tokens: 500,
  cache_read_input_tokens: 2000,
  cache_creation_input_tokens: 4000,
};
// A 1×1 PNG.
const PIXEL = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

test("each reply shows its tokens and cost, the header their total, also after a reload", async ({ page }) => {
  await script("primeira", { text: ["Um."], usage: USAGE });
  await script("segunda", { text: ["Dois."], usage: USAGE });
  await send(page, "primeira pergunta");
  const first = page.getByTestId("message-assistant").last().getByTestId("usage-line");
  // claude-sonnet-4-6: (1000 × 3 + 500 × 15 + 4000 × 3.75 + 2000 × 0.30) / 1e6 = US$ 0.0261
  await expect(first).toHaveText("7.000 tokens de entrada (2.000 do cache) · 500 de saída · US$ 0,0261");
  await expect(page.getByTestId("usage-total")).toHaveText("Total da conversa: 7.500 tokens · US$ 0,0261");

  await send(page, "segunda pergunta");
  await expect(page.getByTestId("usage-line")).toHaveCount(2);
  await expect(page.getByTestId("usage-total")).toHaveText("Total da conversa: 15.000 tokens · US$ 0,0522");

  await page.reload();
  await expect(page.getByTestId("usage-line")).toHaveCount(2);
  await expect(page.getByTestId("usage-total")).toHaveText("Total da conversa: 15.000 tokens · US$ 0,0522");
});

test("an image attached by the button is sent to Claude and shown again after a reload", async ({ page }) => {
  await script("o que é", { text: ["Um ponto vermelho."] });
  const chooser = page.waitForEvent("filechooser");
  await page.getByTestId("attach-button").click();
  await (await chooser).setFiles({ name: "ponto.png", mimeType: "image/png", buffer: PIXEL });
  await expect(page.getByTestId("pending-attachments").getByRole("img", { name: "ponto.png" })).toBeVisible();
  await send(page, "o que é isto?");

  await expect(page.getByTestId("message-assistant").last()).toContainText("Um ponto vermelho.");
  const sent = page.getByTestId("message-user").last().getByTestId("attachment-thumbnail");
  await expect(sent).toHaveAttribute("alt", "ponto.png");
  await expect(page.getByTestId("pending-attachments")).toHaveCount(0);
  const [request] = await modelRequests();
  expect(request!.messages[0]!.content).toEqual([
    { type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL.toString("base64") } },
    { type: "text", text: "o que é isto?", cache_control: { type: "ephemeral" } },
  ]);

  await page.reload();
  const shown = page.getByTestId("message-user").last().getByTestId("attachment-thumbnail");
  await expect(shown).toHaveAttribute("alt", "ponto.png");
  await expect(shown).toHaveAttribute("src", /\/api\/conversations\/\w+\/messages\/0\/attachments\/0$/);
  // The browser fetched and decoded it: the server's bytes are the picture.
  await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
});
