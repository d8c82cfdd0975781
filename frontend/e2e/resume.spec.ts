// The chat picks a running reply up again by itself: after a reload (the session id is in
// sessionStorage; the server sends the history and the turn so far) and after a dropped
// connection (the client reconnects with last_seq; the server replays what was missed).
// Either way the reply ends up on screen whole, and once.
import type { Page, WebSocketRoute } from "@playwright/test";
import { expect, gateName, lastReply, ready, release, resetModel, script, send, test } from "./env";

const WORDS = Array.from({ length: 24 }, (_, i) => `palavra${i}`);
const FULL = WORDS.join(" ");
const HELD_AT = 8;

/** Each word of the reply shows exactly once in the conversation, and nothing else doubled. */
async function expectWholeReplyOnce(page: Page) {
  await expect(lastReply(page)).toHaveText(FULL);
  await expect(page.getByTestId("message-assistant")).toHaveCount(1);
  await expect(page.getByTestId("message-assistant")).toHaveAttribute("aria-busy", "false");
  await expect(page.getByTestId("message-user")).toHaveCount(1);
  const shown = await page.getByTestId("message-list").innerText();
  for (const word of WORDS) {
    expect(shown.match(new RegExp(`\\b${word}\\b`, "g")) ?? [], word).toHaveLength(1);
  }
  await ready(page);
  await expect(page.getByTestId("composer-input")).toBeEnabled();
}

/** A reply of WORDS that stops after HELD_AT words until the gate opens, then streams on. */
async function scriptHeldReply(match: string, gate: string) {
  await script(match, {
    text: WORDS.map((word, i) => (i === 0 ? word : ` ${word}`)),
    delay_ms: 60,
    hold_after: HELD_AT,
    gate,
  });
}

test.beforeEach(async () => {
  await resetModel();
});

test("a reload in the middle of a reply picks it up: the whole text, once", async ({ page }) => {
  const gate = gateName("reload");
  await scriptHeldReply("recarregue no meio", gate);
  await page.goto("/");
  await ready(page);
  await send(page, "recarregue no meio da resposta");
  const partial = WORDS.slice(0, HELD_AT).join(" ");
  await expect(lastReply(page)).toHaveText(partial);
  const sessionId = await page.evaluate(() => sessionStorage.getItem("gatehouse.session"));
  expect(sessionId).toBeTruthy();

  const socket = page.waitForEvent("websocket");
  await page.reload();
  const url = new URL((await socket).url());
  expect(url.searchParams.get("session_id")).toBe(sessionId);
  expect(url.searchParams.has("last_seq")).toBe(false);
  // The question from history, the reply so far from the replay, still going.
  await expect(page.getByTestId("message-user").getByTestId("message-content")).toHaveText(
    "recarregue no meio da resposta",
  );
  await expect(lastReply(page)).toHaveText(partial);
  await expect(page.getByTestId("message-assistant")).toHaveAttribute("aria-busy", "true");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "streaming");

  await release(gate);
  await expect(lastReply(page)).toContainText(`palavra${HELD_AT + 2}`);
  // Once more while the rest streams in (if it already ended, the history has it all).
  await page.reload();
  await expectWholeReplyOnce(page);

  // And once more after the end: the reply now comes from the stored history.
  await page.reload();
  await expectWholeReplyOnce(page);
});

test("a dropped connection resumes from the last frame seen, without repeating", async ({ page }) => {
  const gate = gateName("drop");
  await scriptHeldReply("conexão cai", gate);
  const routes: WebSocketRoute[] = [];
  const urls: URL[] = [];
  // Pass every socket through to the real backend, keeping a handle to cut it.
  await page.routeWebSocket(/\/ws/, (route) => {
    urls.push(new URL(route.url()));
    routes.push(route);
    route.connectToServer();
  });
  await page.goto("/");
  await ready(page);
  await send(page, "a conexão cai no meio");
  await expect(lastReply(page)).toHaveText(WORDS.slice(0, HELD_AT).join(" "));
  expect(urls).toHaveLength(1);

  await routes[0]!.close({ code: 4000, reason: "network lost (test)" });
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "reconnecting");
  await expect.poll(() => urls.length).toBe(2);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "streaming");
  const resumed = urls[1]!;
  expect(resumed.searchParams.get("session_id")).toBeTruthy();
  expect(Number(resumed.searchParams.get("last_seq"))).toBeGreaterThan(HELD_AT);

  await release(gate);
  await expectWholeReplyOnce(page);
});

test("a reload after a tool call redraws its card, from the replay and from the history", async ({ page }) => {
  await script("grave e recarregue", {
    text: ["Vou gravar."],
    tool_uses: [{ id: "toolu_e2e_reload", name: "create_file", input: { path: "recarga/nota.txt", content: "olá" } }],
  });
  await page.goto("/");
  await ready(page);
  await send(page, "grave e recarregue");
  await page.getByRole("dialog").getByRole("button", { name: "Aprovar" }).click();
  const card = page.getByTestId("tool-output-view");
  await expect(card).toHaveAttribute("data-state", "done");
  await ready(page);

  const expectCard = async () => {
    await expect(card).toHaveCount(1);
    await expect(card).toHaveAttribute("data-state", "done");
    await expect(card.getByTestId("tool-path")).toHaveText("recarga/nota.txt");
  };
  await page.reload(); // the last reply comes back as its frames
  await ready(page);
  await expectCard();

  await send(page, "obrigado");
  await expect(page.getByTestId("message-assistant")).toHaveCount(2);
  await ready(page);
  await page.reload(); // now the reply with the call is in the history
  await ready(page);
  await expectCard();
  await expect(page.getByTestId("message-assistant")).toHaveCount(2);
});
