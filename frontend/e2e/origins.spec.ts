// A page from another origin, opened in the same browser, must not reach the app: not its
// WebSocket, not its HTTP API. The app's own page still can.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "@playwright/test";
import { APP_URL, expect, test } from "./env";

let otherSite: Server;
let otherSiteUrl = "";

test.beforeAll(async () => {
  otherSite = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>another site</title><p>another site</p>");
  });
  // 127.0.0.2: loopback too, but another origin than the app's 127.0.0.1.
  await new Promise<void>((done, fail) => {
    otherSite.once("error", fail);
    otherSite.listen(0, "127.0.0.2", () => done());
  });
  otherSiteUrl = `http://127.0.0.2:${(otherSite.address() as AddressInfo).port}/`;
});

test.afterAll(async () => {
  await new Promise<void>((done) => otherSite.close(() => done()));
});

/** From inside the page: open the app's socket, list its conversations, try to delete one. */
function reachApp(page: Page) {
  return page.evaluate(async (app) => {
    const socket = await new Promise<string>((done) => {
      const ws = new WebSocket(`${app.replace(/^http/, "ws")}/ws`);
      ws.onmessage = (event) => {
        done((JSON.parse(String(event.data)) as { event: string }).event);
        ws.close();
      };
      ws.onclose = () => done("refused");
    });
    const outcome = (request: Promise<Response>) =>
      request.then(
        (response) => `status ${response.status}`,
        () => "refused",
      );
    const list = await outcome(fetch(`${app}/api/conversations`));
    const remove = await outcome(fetch(`${app}/api/conversations/nothing`, { method: "DELETE" }));
    return { socket, list, remove };
  }, APP_URL);
}

/** Refusals for a foreign Origin the server counted: on the socket, and over HTTP. */
async function originRefusals(): Promise<{ socket: number; http: number }> {
  const response = await fetch(`${APP_URL}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const count = (name: string) =>
    Number(new RegExp(`^${name}\\{reason="origin"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { socket: count("gatehouse_websocket_refused_total"), http: count("gatehouse_http_refused_total") };
}

test("a page from another origin can neither chat nor use the API; the app's own page can", async ({
  page,
}) => {
  const before = await originRefusals();
  await page.goto(otherSiteUrl);
  expect(await reachApp(page)).toEqual({ socket: "refused", list: "refused", remove: "refused" });
  // The server refused them, not only the browser hid the answers: the socket, the list, and
  // the DELETE's preflight.
  expect(await originRefusals()).toEqual({ socket: before.socket + 1, http: before.http + 2 });

  await page.goto("/");
  expect(await reachApp(page)).toEqual({ socket: "session_created", list: "status 200", remove: "status 404" });
});
