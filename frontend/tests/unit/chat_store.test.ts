import { describe, expect, it } from "vitest";
import { ChatStore } from "@/lib/chat_store";
import { frameMaker } from "../helpers/frames";

function manualFrames() {
  const queue: (() => void)[] = [];
  return {
    schedule: (cb: () => void) => {
      queue.push(cb);
      return () => queue.splice(queue.indexOf(cb), 1);
    },
    runFrame: () => queue.splice(0).forEach((cb) => cb()),
    get pending() {
      return queue.length;
    },
  };
}

describe("chat store", () => {
  it("publishes the first chunk at once and coalesces the rest into one frame", () => {
    const frames = manualFrames();
    let now = 1000;
    const store = new ChatStore({ schedule: frames.schedule, now: () => now, afterRender: null });
    let notified = 0;
    store.subscribe(() => notified++);
    const f = frameMaker();
    store.dispatch({ type: "user_sent", text: "hi" });
    expect(notified).toBe(1);

    now += 100;
    store.dispatch({ type: "frame", frame: f.chunk("first") });
    expect(notified).toBe(2); // the first token is not delayed
    for (const piece of ["a", "b", "c", "d"]) store.dispatch({ type: "frame", frame: f.chunk(piece) });
    expect(notified).toBe(2);
    expect(frames.pending).toBe(1);
    now += 16;
    frames.runFrame();
    expect(notified).toBe(3);
    const reply = Object.values(store.getSnapshot().messages).find((m) => m.role === "assistant");
    expect(reply?.role === "assistant" && reply.parts[0]).toEqual({ type: "text", text: "firstabcd" });
  });

  it("publishes non-chunk frames immediately, carrying any batched chunks with them", () => {
    const frames = manualFrames();
    const now = 0;
    const store = new ChatStore({ schedule: frames.schedule, now: () => now, afterRender: null });
    const f = frameMaker();
    store.dispatch({ type: "user_sent", text: "hi" });
    store.dispatch({ type: "frame", frame: f.chunk("x") });
    store.dispatch({ type: "frame", frame: f.chunk("y") });
    expect(frames.pending).toBe(1);
    store.dispatch({ type: "frame", frame: f.done() });
    expect(frames.pending).toBe(0);
    expect(store.getSnapshot().status).toBe("idle");
    expect(store.getSnapshot()).toBe(store.current);
  });

  it("waits longer between publications when rendering is slow, and never past the cap", () => {
    const frames = manualFrames();
    let now = 0;
    const after: (() => void)[] = [];
    const store = new ChatStore({
      schedule: frames.schedule,
      now: () => now,
      afterRender: (cb) => after.push(cb),
      maxWaitMs: 400,
    });
    const f = frameMaker();
    store.dispatch({ type: "user_sent", text: "hi" });
    now = 100;
    store.dispatch({ type: "frame", frame: f.chunk("a") }); // published at once
    now = 180; // that render took 80 ms
    after.splice(0).forEach((cb) => cb());
    let published = store.getSnapshot();
    store.dispatch({ type: "frame", frame: f.chunk("b") });
    for (now = 200; now < 260; now += 16) frames.runFrame();
    expect(store.getSnapshot()).toBe(published); // 2 × 80 ms after the last publication: not yet
    now = 262;
    frames.runFrame();
    expect(store.getSnapshot()).not.toBe(published);

    // A 300 ms render asks for 600 ms between publications; the cap keeps it at 400 ms.
    now = 3000;
    store.dispatch({ type: "frame", frame: f.chunk("c") }); // long quiet: published at once
    now = 3300;
    after.splice(0).forEach((cb) => cb());
    published = store.getSnapshot();
    store.dispatch({ type: "frame", frame: f.chunk("d") });
    now = 3390;
    frames.runFrame();
    expect(store.getSnapshot()).toBe(published);
    now = 3400;
    frames.runFrame();
    expect(store.getSnapshot()).not.toBe(published);
  });
});
