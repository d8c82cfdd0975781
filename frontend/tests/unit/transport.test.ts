import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { backoffDelay } from "@/lib/backoff";
import { ChatClient } from "@/lib/chat_client";
import type { ConnectionState } from "@/lib/chat_state";
import { SocketTransport } from "@/lib/transport";
import { FakeWebSocket } from "../helpers/fake_socket";
import { frameMaker } from "../helpers/frames";

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("backoff", () => {
  it("doubles from the base, is capped, and jitters within the upper half", () => {
    const options = { baseMs: 500, maxMs: 8000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, options, () => 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(backoffDelay(3, options, () => 0)).toBe(2000);
    expect(backoffDelay(10, options, () => 0.5)).toBe(6000);
  });
});

describe("socket transport", () => {
  function setup() {
    const states: ConnectionState[] = [];
    const transport = new SocketTransport({
      url: () => "ws://test/ws",
      onFrame: () => undefined,
      onConnection: (s) => states.push(s),
      createSocket: FakeWebSocket.create,
      backoff: { baseMs: 100, maxMs: 1000, factor: 2 },
      random: () => 1,
    });
    return { transport, states };
  }

  it("reconnects after a drop with growing, capped delays, and resets after a success", () => {
    const { transport, states } = setup();
    transport.start();
    FakeWebSocket.last.open();
    expect(states).toEqual(["connecting", "open"]);

    FakeWebSocket.last.drop();
    expect(states.at(-1)).toBe("reconnecting");
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = FakeWebSocket.instances.length;
      let waited = 0;
      while (FakeWebSocket.instances.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
      }
      delays.push(waited);
      FakeWebSocket.last.drop(); // the retry fails too
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(states.at(-1)).toBe("reconnecting");

    vi.advanceTimersByTime(1000);
    FakeWebSocket.last.open();
    expect(states.at(-1)).toBe("open");
    FakeWebSocket.last.drop();
    const before = FakeWebSocket.instances.length;
    vi.advanceTimersByTime(100);
    expect(FakeWebSocket.instances.length).toBe(before + 1);
  });

  it("queues frames while down and sends them once open", () => {
    const { transport } = setup();
    transport.start();
    transport.send({ event: "cancel", data: {} });
    expect(FakeWebSocket.last.sent).toEqual([]);
    FakeWebSocket.last.open();
    expect(FakeWebSocket.last.frames).toEqual([{ event: "cancel", data: {} }]);
  });

  it("gives up on a policy refusal (1008) instead of retrying", () => {
    const { transport, states } = setup();
    transport.start();
    FakeWebSocket.last.drop(1008);
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(states.at(-1)).toBe("closed");
  });

  it("stops for good on stop()", () => {
    const { transport, states } = setup();
    transport.start();
    FakeWebSocket.last.open();
    transport.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(states.at(-1)).toBe("closed");
  });
});

describe("chat client reconnect", () => {
  function client() {
    return new ChatClient({
      base: () => "ws://example.test/ws",
      locale: () => "en",
      createSocket: FakeWebSocket.create,
      sessionStore: sessionStorage,
      store: { frameMs: 0, afterRender: null },
      random: () => 0,
    });
  }

  it("shows reconnecting, then resumes the same session from the last seq", () => {
    const chat = client();
    chat.start();
    const first = FakeWebSocket.last;
    expect(new URL(first.url).searchParams.get("locale")).toBe("en");
    expect(new URL(first.url).searchParams.has("session_id")).toBe(false);
    first.open();
    const f = frameMaker();
    first.receive(f.session("abc"));
    expect(chat.sendMessage("hi")).toBe(true);
    first.receive(f.chunk("Hel"));
    first.receive(f.chunk("lo"));
    expect(chat.store.getSnapshot().connection).toBe("open");

    first.drop();
    expect(chat.store.getSnapshot().connection).toBe("reconnecting");
    vi.advanceTimersByTime(250);
    const second = FakeWebSocket.last;
    expect(second).not.toBe(first);
    const url = new URL(second.url);
    expect(url.searchParams.get("session_id")).toBe("abc");
    expect(url.searchParams.get("last_seq")).toBe("2");
    second.open();
    second.receive(f.session("abc"));
    second.receive(f.chunk("!"));
    second.receive(f.done());
    const state = chat.store.getSnapshot();
    expect(state.connection).toBe("open");
    const reply = state.messages[state.messageIds[1]!];
    expect(reply?.role === "assistant" && reply.parts).toEqual([{ type: "text", text: "Hello!" }]);
  });

  it("after a reload, asks for the stored session without last_seq (the server sends history)", () => {
    sessionStorage.setItem("gatehouse.session", "stored-id");
    const chat = client();
    chat.start();
    const url = new URL(FakeWebSocket.last.url);
    expect(url.searchParams.get("session_id")).toBe("stored-id");
    expect(url.searchParams.has("last_seq")).toBe(false);
  });

  it("does not send an empty message, or one while a reply runs", () => {
    const chat = client();
    chat.start();
    const socket = FakeWebSocket.last;
    socket.open();
    socket.receive(frameMaker().session());
    expect(chat.sendMessage("   ")).toBe(false);
    expect(chat.sendMessage("first")).toBe(true);
    expect(chat.sendMessage("second")).toBe(false);
    expect(socket.frames).toEqual([{ event: "user_message", data: { text: "first" } }]);
  });

  it("starts where the tab was after a reload: that conversation, waiting for its history", () => {
    sessionStorage.setItem("gatehouse.session", "stored-id");
    const chat = client();
    expect(chat.store.current).toMatchObject({ sessionId: "stored-id", awaitingHistory: true });
  });

  it("opens another conversation without last_seq, and remembers it for a reload", () => {
    const chat = client();
    chat.start();
    const first = FakeWebSocket.last;
    first.open();
    const f = frameMaker();
    first.receive(f.session("abc"));
    chat.sendMessage("hi");
    first.receive(f.chunk("Hello"));
    first.receive(f.done());
    expect(chat.openConversation("abc")).toBe(false);
    expect(FakeWebSocket.last).toBe(first);

    expect(chat.openConversation("other")).toBe(true);
    expect(sessionStorage.getItem("gatehouse.session")).toBe("other");
    expect(first.readyState).toBe(FakeWebSocket.CLOSED);
    const url = new URL(FakeWebSocket.last.url);
    expect(url.searchParams.get("session_id")).toBe("other");
    expect(url.searchParams.has("last_seq")).toBe(false);
    // A drop before the history came asks for the history again.
    FakeWebSocket.last.open();
    FakeWebSocket.last.drop();
    vi.advanceTimersByTime(250);
    expect(new URL(FakeWebSocket.last.url).searchParams.has("last_seq")).toBe(false);
  });

  it("starts a new conversation at once when the server says the open one was deleted (4404)", () => {
    const chat = client();
    chat.start();
    const first = FakeWebSocket.last;
    first.open();
    const f = frameMaker();
    first.receive(f.session("doomed"));
    chat.sendMessage("hi");
    expect(sessionStorage.getItem("gatehouse.session")).toBe("doomed");

    first.close(4404);
    // No backoff: the new connection is made right away, for a new conversation.
    const second = FakeWebSocket.last;
    expect(second).not.toBe(first);
    expect(new URL(second.url).searchParams.has("session_id")).toBe(false);
    expect(sessionStorage.getItem("gatehouse.session")).toBeNull();
    const state = chat.store.getSnapshot();
    expect(state.messageIds).toEqual([]);
    expect(state.notices).toMatchObject([{ code: "conversation_deleted" }]);
  });
});
