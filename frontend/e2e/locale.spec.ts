// The language of the UI and of the server's messages: `?locale=` on the page URL chooses it;
// the switch changes it in place, without a new socket.
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

test("switching the language rewords what is on screen, errors included, on the same socket", async ({ page }) => {
  const sockets: string[] = [];
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await page.goto("/");
  await ready(page);
  await script("falhe por favor", {
    http_error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
  });
  await send(page, "falhe por favor");
  const alert = lastReply(page).getByRole("alert");
  await expect(alert).toHaveText("Não autorizado. Verifique sua ANTHROPIC_API_KEY.");

  await page.getByTestId("locale-en").click();
  await expect(alert).toHaveText("Unauthorized. Check your ANTHROPIC_API_KEY.");
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Write a message…");
  await page.getByTestId("locale-pt-BR").click();
  await expect(alert).toHaveText("Não autorizado. Verifique sua ANTHROPIC_API_KEY.");
  expect(sockets).toHaveLength(1);
});

test("with no language chosen the page asks for none and shows the server's default", async ({ page }) => {
  const socket = page.waitForEvent("websocket");
  await page.goto("/");
  expect(new URL((await socket).url()).searchParams.has("locale")).toBe(false);
  await ready(page);
  // The e2e backend runs with the default DEFAULT_LOCALE, pt-BR.
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Escreva uma mensagem…");
});
