// Benchmark, not a test with thresholds: how long the UI takes per streamed chunk.
//   npm run bench      (after `npm run build`; starts the same servers as the e2e run; `make
//   bench` runs it after the backend's benchmarks)
// 1. UI only: a stand-in WebSocket inside the page floods 2,000 `ai_chunk` frames (~100 KB of
//    Markdown, one frame per task, as fast as the page takes them) into a conversation that
//    already holds 200 messages; we time from the first frame to the final text on screen, and
//    read the main thread's CPU time (the DevTools protocol's thread-time `TaskDuration`) and
//    the longest task (PerformanceObserver "longtask": every task over 50 ms).
// 2. Full stack: the real backend streams 2,000 deltas from the Claude stand-in.
// Results are printed and written to test-results/bench.json. With BENCH_PROFILE=1 the UI-only
// run also records a CPU profile and a trace (test-results/ui-only.cpuprofile and
// .trace.json, for DevTools) and prints the functions that took the most self time and what the
// longest tasks spent their time on.
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
  /** Every task over 50 ms: when it started (ms after the message was sent) and how long it took. */
  longTasks?: { atMs: number; ms: number }[];
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

/**
 * Count DOM updates of the last reply and note when it is final (not streaming, and showing
 * `marker` when given: the text renders in the background, after the flag). The page
 * itself watches, and `replyDone` waits on its promise: Playwright's polling assertions would
 * run their queries on the page's main thread while it streams, and be counted as its cost.
 */
async function watchReply(page: Page, marker?: string): Promise<void> {
  await page.evaluate((marker) => {
    const w = window as unknown as {
      __bench: { renders: number; done?: number; finished?: Promise<void> };
    };
    w.__bench = { ...(w.__bench ?? {}), renders: 0 };
    // Only a reply that comes after this point counts (earlier ones are already final).
    const earlier = document.querySelectorAll('[data-testid="message-assistant"]').length;
    w.__bench.finished = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        w.__bench.renders += 1;
        const replies = document.querySelectorAll('[data-testid="message-assistant"]');
        const last = replies.length > earlier ? replies[replies.length - 1] : undefined;
        const final =
          last?.getAttribute("aria-busy") === "false" &&
          (marker === undefined || (last.textContent ?? "").includes(marker));
        if (final && w.__bench.done === undefined) {
          w.__bench.done = performance.now();
          observer.disconnect();
          resolve();
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
  }, marker);
}

/** Resolves when the watched reply is final, without polling the page. */
async function replyDone(page: Page): Promise<void> {
  await page.evaluate(
    () => (window as unknown as { __bench: { finished: Promise<void> } }).__bench.finished,
  );
}

async function report(results: Result[]): Promise<void> {
  const lines = results.map(
    (r) =>
      `${r.name.padEnd(10)} ${r.chunks} chunks, ${(r.bytes / 1024).toFixed(0)} KB: ` +
      `${r.totalMs.toFixed(0)} ms total, ${r.msPerChunk.toFixed(3)} ms/chunk, ${r.renders} DOM updates` +
      (r.cpuMsPerChunk === undefined
        ? ""
        : `; main-thread CPU ${r.cpuMsPerChunk.toFixed(3)} ms/chunk, longest task ${r.longestTaskMs?.toFixed(0)} ms` +
          ` (${r.priorMessages} messages before)` +
          (r.longTasks?.length
            ? `; tasks over 50 ms at ${r.longTasks.map((t) => `+${t.atMs} ms (${t.ms} ms)`).join(", ")}`
            : "")),
  );
  console.log(["", "Streaming render benchmark (Chromium)", ...lines, ...summary(results), ""].join("\n"));
  await writeFile("test-results/bench.json", JSON.stringify(results, null, 2));
}

/** The UI-only runs together: the median CPU per chunk (the machine's other load moves single
 * runs) and the longest task of any run. */
function summary(results: Result[]): string[] {
  const runs = results.filter((r) => r.cpuMsPerChunk !== undefined);
  if (runs.length === 0) return [];
  const cpu = runs.map((r) => r.cpuMsPerChunk ?? 0).sort((a, b) => a - b);
  const median = cpu[Math.floor(cpu.length / 2)] ?? 0;
  const longest = Math.max(...runs.map((r) => r.longestTaskMs ?? 0));
  return [
    `ui-only, ${runs.length} runs: median main-thread CPU ${median.toFixed(3)} ms/chunk ` +
      `(${cpu.map((c) => c.toFixed(3)).join(", ")}), longest task in any run ${longest.toFixed(0)} ms`,
  ];
}

/** The main thread's task time so far, in seconds (thread time: CPU, not waiting). */
async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((metric) => metric.name === "TaskDuration")?.value ?? 0;
}

const results: Result[] = [];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  tid: number;
  args?: { name?: string; data?: { functionName?: string; url?: string } };
}

/** What the longest tasks of a trace's main thread spent their time on, by event name. */
function longestTaskBreakdown(events: TraceEvent[], count = 4): string[] {
  const main = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain")?.tid;
  const tasks = events
    .filter((e) => e.name === "RunTask" && e.ph === "X" && e.dur !== undefined && e.tid === main)
    .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))
    .slice(0, count);
  return tasks.flatMap((task) => {
    const end = task.ts + (task.dur ?? 0);
    const byName = new Map<string, number>();
    for (const e of events) {
      if (e.tid !== main || e.ph !== "X" || e.ts < task.ts || e.ts >= end || e === task) continue;
      const name = e.name === "FunctionCall" ? `FunctionCall ${e.args?.data?.functionName ?? ""}` : e.name;
      byName.set(name, (byName.get(name) ?? 0) + (e.dur ?? 0) / 1000);
    }
    return [
      `task of ${((task.dur ?? 0) / 1000).toFixed(1)} ms:`,
      ...[...byName.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([name, ms]) => `${ms.toFixed(1).padStart(8)} ms  ${name}`),
    ];
  });
}

/** The functions with the most self time in a CPU profile, as printable lines. */
function topSelfTime(profile: Profile, count = 25): string[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = byNode.get(id)?.callFrame;
    if (!frame) return;
    const file = frame.url.split("/").pop() ?? "";
    const key = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, ms]) => `${ms.toFixed(1).padStart(8)} ms  ${key}`);
}

test.afterAll(async () => {
  await report(results);
});

const UI_RUNS = 3;

for (let run = 1; run <= UI_RUNS; run++) test(`UI only: 2,000 chunks from an in-page socket (run ${run})`, async ({ page }) => {
  const chunks = makeChunks();
  const history = priorHistory();
  await page.addInitScript(
    ({ chunks, history }) => {
      type Frame = { event: string; data: Record<string, unknown>; seq: number };
      const w = window as unknown as {
        __bench: { start?: number; emitted?: number; longest?: number; long?: { atMs: number; ms: number }[] };
      };
      w.__bench = { longest: 0, long: [] };
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const start = w.__bench.start;
          if (start === undefined || entry.startTime + entry.duration < start) continue;
          w.__bench.longest = Math.max(w.__bench.longest ?? 0, entry.duration);
          w.__bench.long?.push({ atMs: Math.round(entry.startTime - start), ms: Math.round(entry.duration) });
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
  await watchReply(page, MARKER);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  const profiling = process.env.BENCH_PROFILE === "1";
  if (profiling) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Profiler.start");
    await page.context().browser()?.startTracing(page, {
      categories: ["devtools.timeline", "disabled-by-default-devtools.timeline"],
    });
  }
  const cpuBefore = await taskSeconds(cdp);
  await page.getByTestId("composer-input").fill("bench");
  await page.getByTestId("composer-input").press("Enter");
  await replyDone(page);
  const cpuMs = ((await taskSeconds(cdp)) - cpuBefore) * 1000;
  if (profiling) {
    const { profile } = (await cdp.send("Profiler.stop")) as unknown as { profile: Profile };
    await writeFile("test-results/ui-only.cpuprofile", JSON.stringify(profile));
    console.log(["", "Most self time (UI only):", ...topSelfTime(profile)].join("\n"));
    const trace = await page.context().browser()?.stopTracing();
    if (trace) {
      await writeFile("test-results/ui-only.trace.json", trace);
      const { traceEvents } = JSON.parse(trace.toString()) as { traceEvents: TraceEvent[] };
      console.log(["", ...longestTaskBreakdown(traceEvents)].join("\n"));
    }
  }
  await expect(page.getByTestId("message-assistant").last()).toContainText(MARKER);
  const timing = await page.evaluate(
    () =>
      (
        window as unknown as {
          __bench: { start: number; done: number; renders: number; longest: number; long: { atMs: number; ms: number }[] };
        }
      ).__bench,
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
    longTasks: timing.long,
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
  await replyDone(page);
  const reply = page.getByTestId("message-assistant").last();
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
