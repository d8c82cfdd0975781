import { describe, expect, it, vi } from "vitest";
import { reduce, type ChatAction } from "@/lib/chat_reducer";
import { initialChatState, type ChatState } from "@/lib/chat_state";
import { ConversationList, needsRefresh } from "@/lib/conversation_list";
import { apiBase, ApiError, httpConversationsApi, pageToken } from "@/lib/conversations_api";
import { formatRelative } from "@/lib/format";
import { conversation, FakeConversationsApi } from "../helpers/fake_api";
import { frameMaker } from "../helpers/frames";

const run = (actions: ChatAction[], state: ChatState = initialChatState()) => actions.reduce(reduce, state);

describe("conversation list store", () => {
  it("loads one request at a time and folds the calls made meanwhile into one more", async () => {
    const api = new FakeConversationsApi([conversation("a", "First")]);
    const list = new ConversationList(api);
    api.hold();
    const first = list.refresh();
    expect(list.getSnapshot().status).toBe("loading");
    void list.refresh();
    void list.refresh();
    expect(api.listCalls).toBe(1);
    api.conversations.unshift(conversation("b", "Second"));
    api.release();
    await first;
    // The calls made during the first load got a load of their own, after it.
    expect(api.listCalls).toBe(2);
    expect(list.getSnapshot().status).toBe("ready");
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["b", "a"]);
  });

  it("keeps the items it had when a later load fails", async () => {
    const api = new FakeConversationsApi([conversation("a", "First")]);
    const list = new ConversationList(api);
    await list.refresh();
    api.failList = true;
    await list.refresh();
    expect(list.getSnapshot().status).toBe("error");
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["a"]);
  });

  it("deletes only what is being confirmed, and not twice at once", async () => {
    const api = new FakeConversationsApi([conversation("a", "First"), conversation("b", "Second")]);
    const list = new ConversationList(api);
    await list.refresh();
    expect(await list.confirmDelete()).toBe(false);
    list.askDelete("nope");
    expect(list.getSnapshot().confirming).toBeNull();
    list.askDelete("b");
    expect(list.getSnapshot().confirming?.title).toBe("Second");
    const deleting = list.confirmDelete();
    expect(list.getSnapshot().deleting).toBe(true);
    expect(await list.confirmDelete()).toBe(false);
    list.cancelDelete(); // too late: it is under way
    expect(await deleting).toBe(true);
    expect(api.removeCalls).toEqual(["b"]);
    expect(list.getSnapshot()).toMatchObject({ confirming: null, deleting: false, deleteFailed: false });
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["a"]);
  });

  it("loads more pages after the first, without repeats, until there are no more", async () => {
    const api = new FakeConversationsApi(["a", "b", "c", "d", "e"].map((id) => conversation(id, id)));
    api.pageSize = 2;
    const list = new ConversationList(api);
    await list.refresh();
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["a", "b"]);
    expect(list.getSnapshot().next).not.toBeNull();
    await list.loadMore();
    await list.loadMore();
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["a", "b", "c", "d", "e"]);
    expect(list.getSnapshot().next).toBeNull();
    const calls = api.listCalls;
    await list.loadMore(); // nothing left: no request
    expect(api.listCalls).toBe(calls);
  });

  it("keeps the pages loaded with loadMore when the list is refreshed", async () => {
    const api = new FakeConversationsApi(["a", "b", "c", "d"].map((id) => conversation(id, id)));
    api.pageSize = 2;
    const list = new ConversationList(api);
    await list.refresh();
    await list.loadMore();
    const next = list.getSnapshot().next;
    // "d" gets a reply: it moves to the top, and "b" falls off the first page.
    api.conversations = ["d", "a", "b", "c"].map((id) => conversation(id, id));
    await list.refresh();
    expect(list.getSnapshot().items.map((c) => c.id)).toEqual(["d", "a", "b", "c"]);
    expect(list.getSnapshot().next).toBe(next);
  });

  it("asks for a refresh when a reply ends or the open conversation gets its first message", () => {
    const f = frameMaker();
    const listed = (id: string) => id === "old";
    const frame = (fr: ReturnType<typeof f.chunk>): ChatAction => ({ type: "frame", frame: fr });
    const idle = run([{ type: "connection", connection: "open" }, frame(f.session("new"))]);
    const sent = run([{ type: "user_sent", text: "hi" }], idle);
    expect(needsRefresh(idle, sent, listed)).toBe(false);
    const typing = run([frame(f.status({ ai_typing: true }))], sent);
    expect(needsRefresh(sent, typing, listed)).toBe(true);
    expect(needsRefresh(sent, typing, () => true)).toBe(false);
    const chunk = run([frame(f.chunk("x"))], typing);
    expect(needsRefresh(typing, chunk, listed)).toBe(false);
    const done = run([frame(f.done())], chunk);
    expect(needsRefresh(chunk, done, () => true)).toBe(true);
  });
});

describe("conversations API over HTTP", () => {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("finds the backend behind the socket URL", () => {
    expect(apiBase("ws://localhost:4000/ws")).toBe("http://localhost:4000");
    expect(apiBase("wss://chat.example.com/ws")).toBe("https://chat.example.com");
    expect(pageToken("?token=s3cret&x=1")).toBe("s3cret");
    expect(pageToken("")).toBeNull();
  });

  it("lists with the page's token as a bearer header, and skips malformed entries", async () => {
    const fetch = vi.fn(async () =>
      json([conversation("a", "First"), { id: 1, title: "bad" }, conversation("b", "Second")]),
    );
    const api = httpConversationsApi({ base: () => "http://h:4000", token: () => "tok", fetch });
    expect((await api.list()).items.map((c) => c.id)).toEqual(["a", "b"]);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://h:4000/api/conversations?limit=50");
    expect(init.method).toBe("GET");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer tok");
  });

  it("asks for the page after a cursor and hands on the next cursor", async () => {
    const pages = [
      new Response(JSON.stringify([conversation("c", "Third")]), {
        headers: { "content-type": "application/json", "X-Next-Cursor": "abc_-" },
      }),
      json([conversation("d", "Fourth")]),
    ];
    const fetch = vi.fn(async () => pages.shift() as Response);
    const api = httpConversationsApi({ base: () => "http://h", token: () => null, fetch });
    expect(await api.list("x/y")).toMatchObject({ items: [{ id: "c" }], next: "abc_-" });
    expect(await api.list("abc_-")).toMatchObject({ items: [{ id: "d" }], next: null });
    const [url] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://h/api/conversations?limit=50&cursor=x%2Fy");
  });

  it("sends no authorization without a token, and fails on an error status", async () => {
    const fetch = vi.fn(async () => json({ detail: "unauthorized" }, 401));
    const api = httpConversationsApi({ base: () => "http://h", token: () => null, fetch });
    await expect(api.list()).rejects.toBeInstanceOf(ApiError);
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.headers).not.toHaveProperty("authorization");
  });

  it("deletes by id; one already gone counts as deleted", async () => {
    const statuses = [204, 404, 500];
    const fetch = vi.fn(async () => new Response(null, { status: statuses.shift() }));
    const api = httpConversationsApi({ base: () => "http://h", token: () => null, fetch });
    await api.remove("a/b");
    await api.remove("gone");
    await expect(api.remove("x")).rejects.toMatchObject({ status: 500 });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://h/api/conversations/a%2Fb");
    expect(init.method).toBe("DELETE");
  });
});

describe("relative time", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  const ago = (seconds: number) => now - seconds * 1000;
  it("says how long ago, in the chosen language", () => {
    expect(formatRelative(ago(10), now, "en")).toBe("now");
    expect(formatRelative(ago(10), now, "pt-BR")).toBe("agora");
    expect(formatRelative(ago(59.6), now, "en")).toBe("1 minute ago");
    expect(formatRelative(ago(5 * 60), now, "pt-BR")).toBe("há 5 minutos");
    expect(formatRelative(ago(3 * 3600), now, "en")).toBe("3 hours ago");
    expect(formatRelative(ago(26 * 3600), now, "pt-BR")).toBe("ontem");
    expect(formatRelative(ago(15 * 86400), now, "en")).toBe("2 weeks ago");
    expect(formatRelative(ago(400 * 86400), now, "en")).toBe("last year");
  });
});
