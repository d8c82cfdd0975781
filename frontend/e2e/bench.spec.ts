// Benchmark, not a test with thresholds: how long the UI takes per streamed chunk.
//   npm run bench      (after `npm run build`; starts the same servers as the e2e run; `make
//   bench` runs it after the backend's benchmarks)
// 1. UI only: a stand-in WebSocket inside the page floods 2,000 `ai_chunk` frames (~100 KB of
//    Markdown, one frame per task, as fast as the page takes them) into a conversation that
//    already holds 200 messages; we time from the first frame to the final text on screen, and
//    read the main thread's CPU time (the DevTools protocol's thread-time `TaskDuration`) and
//    the longest task (PerformanceObserver "longtask": every task over 50 ms).
// 2. Full stack: the real backend streams 2,000 deltas from the Claude stand-in.
// Results are printed and written to test-results/bench.json.
import { writeFile } from "node:fs/promises";
import type { CDPSession, Page } from "@playwright/test";
import { expect, resetModel, script, test } from "./env";

const CHUNKS = 2000;
const MARKER = "FIM-DO-BENCH";

function makeChunks(): string[] {
  const words = "o gateway recebe cada pedaço da resposta e o mostra sem atraso para quem lê ".split(" ");
  const chunks: string[] = [];
  for (let i = 0; i < CHUNKS; i++) {
    let text = "";
    while (text.length < 46) text += `${words[(i * 7 + text.length) % words.length]} `;
    if (i % 200 === 100) text = `\n\n\`\`\`ts\nconst valor${i} = ${i};\n`;
    else if (i % 200 === 110) text = "\n```\n\n";
    else if (i % 25 === 24) text += "\n\n";
    else if (i % 50 === 10) text = `**${text.trim()}** `;
    chunks.push(text);
  }
  chunks[CHUNKS - 1] = ` ${MARKER}`;
  return chunks;
}

interface Result {
  name: string;
  chunks: number;
  bytes: number;
  totalMs: number;
  msPerChunk: number;
  renders: number;
  /** Main-thread CPU per chunk (thread time), and the longest task (0: none over 50 ms). */
  cpuMsPerChunk?: number;
  longestTaskMs?: number;
  priorMessages?: number;
}

const PRIOR_MESSAGES = 200;

/** A conversation's worth of earlier messages, as the server's `history` frame carries them. */
function priorHistory(): Record<string, unknown>[] {
  return Array.from({ length: PRIOR_MESSAGES }, (_, i) =>
    i % 2 === 0
      ? { role: "user", text: `Pergunta ${i / 2 + 1}: como fica o módulo ${i}?`, stopped: false }
      : {
          role: "assistant",
          text: `Resposta ${i}: o módulo **${i}** usa \`valor${i}\`.\n\n- primeiro ponto\n- segundo ponto\n\n\`\`\`ts\nconst x${i} = ${i};\n\`\`\``,
          stopped: false,
        },
  );
}

/** Count DOM updates of the last reply and resolve when it is final (not streaming). */
async function watchReply(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __bench: { renders: number; done?: number } };
    w.__bench = { ...(w.__bench ?? {}), renders: 0 };
    // Only a reply that comes after this point counts (earlier ones are already final).
    const earlier = document.querySelectorAll('[data-testid="message-assistant"]').length;
    const observer = new MutationObserver(() => {
      w.__bench.renders += 1;
      const replies = document.querySelectorAll('[data-testid="message-assistant"]');
      const last = replies.length > earlier ? replies[replies.length - 1] : undefined;
      if (last && last.getAttribute("aria-busy") === "false" && w.__bench.done === undefined) {
        w.__bench.done = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["aria-busy"],
    });
  });
}

async function report(results: Result[]): Promise<void> {
  const lines = results.map(
    (r) =>
      `${r.name.padEnd(10)} ${r.chunks} chunks, ${(r.bytes / 1024).toFixed(0)} KB: ` +
      `${r.totalMs.toFixed(0)} ms total, ${r.msPerChunk.toFixed(3)} ms/chunk, ${r.renders} DOM updates` +
      (r.cpuMsPerChunk === undefined
        ? ""
        : `; main-thread CPU ${r.cpuMsPerChunk.toFixed(3)} ms/chunk, longest task ${r.longestTaskMs?.toFixed(0)} ms` +
          ` (${r.priorMessages} messages before)`),
  );
  console.log(["", "Streaming render benchmark (Chromium)", ...lines, ""].join("\n"));
  await writeFile("test-results/bench.json", JSON.stringify(results, null, 2));
}

/** The main thread's task time so far, in seconds (thread time: CPU, not waiting). */
async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((metric) => metric.name === "TaskDuration")?.value ?? 0;
}

const results: Result[] = [];

test.afterAll(async () => {
  await report(results);
});

test("UI only: 2,000 chunks from an in-page socket", async ({ page }) => {
  const chunks = makeChunks();
  const history = priorHistory();
  await page.addInitScript(
    ({ chunks, history }) => {
      type Frame = { event: string; data: Record<string, unknown>; seq: number };
      const w = window as unknown as { __bench: { start?: number; emitted?: number; longest?: number } };
      w.__bench = { longest: 0 };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          if (w.__bench.start !== undefined) w.__bench.longest = Math.max(w.__bench.longest ?? 0, entry.duration);
        }
      }).observe({ type: "longtask" });
      class BenchSocket {
        static readonly CONNECTING = 0;
        static readonly OPEN = 1;
        static readonly CLOSING = 2;
        static readonly CLOSED = 3;
        readyState = 0;
        onopen: ((e: unknown) => void) | null = null;
        onmessage: ((e: { data: string }) => void) | null = null;
        onclose: ((e: unknown) => void) | null = null;
        onerror: ((e: unknown) => void) | null = null;
        seq = 0;
        constructor(readonly url: string) {
          setTimeout(() => {
            this.readyState = 1;
            this.onopen?.({});
            this.emit("session_created", { session_id: "bench" });
            this.emit("history", { messages: history });
          }, 0);
        }
        emit(event: string, data: Record<string, unknown>) {
          const frame: Frame = { event, data, seq: ++this.seq };
          this.onmessage?.({ data: JSON.stringify(frame) });
        }
        send(text: string) {
          if ((JSON.parse(text) as Frame).event !== "user_message") return;
          const channel = new MessageChannel();
          let i = 0;
          w.__bench = { ...(w.__bench ?? {}), start: performance.now() };
          this.emit("status_update", { ai_typing: true });
          channel.port1.onmessage = () => {
            if (i < chunks.length) {
              this.emit("ai_chunk", { text: chunks[i++] });
              channel.port2.postMessage(0);
              return;
            }
            w.__bench.emitted = performance.now();
            this.emit("status_update", { ai_typing: false });
            this.emit("assistant_message_completed", { reason: "ok" });
          };
          channel.port2.postMessage(0);
        }
        close() {
          this.readyState = 3;
        }
      }
      (window as unknown as { WebSocket: unknown }).WebSocket = BenchSocket;
    },
    { chunks, history },
  );
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(page.getByTestId("message-assistant")).toHaveCount(PRIOR_MESSAGES / 2);
  await watchReply(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const cpuBefore = await taskSeconds(cdp);
  await page.getByTestId("composer-input").fill("bench");
  await page.getByTestId("composer-input").press("Enter");
  const reply = page.getByTestId("message-assistant").last();
  await expect(reply).toHaveAttribute("aria-busy", "false", { timeout: 60_000 });
  await expect(reply).toContainText(MARKER);
  const cpuMs = ((await taskSeconds(cdp)) - cpuBefore) * 1000;
  const timing = await page.evaluate(
    () =>
      (window as unknown as { __bench: { start: number; done: number; renders: number; longest: number } }).__bench,
  );
  const totalMs = timing.done - timing.start;
  results.push({
    name: "ui-only",
    chunks: CHUNKS,
    bytes: Buffer.byteLength(chunks.join("")),
    totalMs,
    msPerChunk: totalMs / CHUNKS,
    renders: timing.renders,
    cpuMsPerChunk: cpuMs / CHUNKS,
    longestTaskMs: timing.longest,
    priorMessages: PRIOR_MESSAGES,
  });
});

test("full stack: 2,000 deltas through the backend", async ({ page }) => {
  await resetModel();
  await script("bench full", { deltas: { count: CHUNKS, min_bytes: 45, max_bytes: 55 } });
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await watchReply(page);
  await page.getByTestId("composer-input").fill("bench full");
  const start = await page.evaluate(() => {
    const w = window as unknown as { __bench: { start?: number } };
    const input = document.querySelector<HTMLTextAreaElement>('[data-testid="composer-input"]');
    input?.addEventListener(
      "keydown",
      () => {
        w.__bench.start = performance.now();
      },
      { capture: true, once: true },
    );
    return true;
  });
  expect(start).toBe(true);
  await page.getByTestId("composer-input").press("Enter");
  const reply = page.getByTestId("message-assistant").last();
  await expect(reply).toHaveAttribute("aria-busy", "false", { timeout: 90_000 });
  const timing = await page.evaluate(
    () => (window as unknown as { __bench: { start: number; done: number; renders: number } }).__bench,
  );
  const bytes = await reply.getByTestId("message-content").evaluate((el) => el.textContent?.length ?? 0);
  const totalMs = timing.done - timing.start;
  results.push({
    name: "full-stack",
    chunks: CHUNKS,
    bytes,
    totalMs,
    msPerChunk: totalMs / CHUNKS,
    renders: timing.renders,
  });
});
