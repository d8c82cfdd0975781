// The language of the UI and of the server's messages: `?locale=` on the page URL chooses it.
import { expect, lastReply, ready, resetModel, script, send, test } from "./env";

test.beforeEach(async () => {
  await resetModel();
});

test("?locale=en on the page URL makes the UI and the server's messages English", async ({ page }) => {
  const socket = page.waitForEvent("websocket");
  await page.goto("/?locale=en");
  expect(new URL((await socket).url()).searchParams.get("locale")).toBe("en");
  await ready(page);
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Write a message…");
  await expect(page.getByTestId("locale-en")).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");

  await script("an error please", {
    http_error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
  });
  await send(page, "an error please");
  await expect(lastReply(page).getByRole("alert")).toHaveText("Unauthorized. Check your ANTHROPIC_API_KEY.");
});

test("with no language chosen the page asks for none and shows the server's default", async ({ page }) => {
  const socket = page.waitForEvent("websocket");
  await page.goto("/");
  expect(new URL((await socket).url()).searchParams.has("locale")).toBe(false);
  await ready(page);
  // The e2e backend runs with the default DEFAULT_LOCALE, pt-BR.
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Escreva uma mensagem…");
});
