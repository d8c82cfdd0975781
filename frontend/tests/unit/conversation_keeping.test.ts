import { afterEach, describe, expect, it, vi } from "vitest";
import { reduceFrame } from "@/lib/chat_reducer";
import { initialChatState } from "@/lib/chat_state";
import { ConversationList, needsRefresh, SEARCH_DEBOUNCE_MS } from "@/lib/conversation_list";
import { conversation, FakeConversationsApi } from "../helpers/fake_api";

afterEach(() => {
  vi.useRealTimers();
});

describe("search, rename and pin in the conversation list", () => {
  it("asks once typing pauses, with the last text only, and clears with an empty box", async () => {
    vi.useFakeTimers();
    const api = new FakeConversationsApi([conversation("a", "Lisbon trip")]);
    api.searchResults = [
      { id: "a", title: "Lisbon trip", updated_at: "", pinned: false, matches: [{ position: -1, snippet: [{ text: "Lisbon", hit: true }] }] },
    ];
    const list = new ConversationList(api);
    list.setQuery("l");
    list.setQuery("li");
    list.setQuery("lis");
    expect(list.getSnapshot().results).toBeNull();
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    expect(api.searches).toEqual(["lis"]);
    expect(list.getSnapshot().results?.map((r) => r.id)).toEqual(["a"]);
    list.setQuery("   ");
    await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    expect(api.searches).toEqual(["lis"]);
    expect(list.getSnapshot().query).toBe("   ");
  });

  it("pins and renames through the API and keeps the stored values", async () => {
    const api = new FakeConversationsApi([conversation("a", "One"), conversation("b", "Two")]);
    const list = new ConversationList(api);
    await list.refresh();
    expect(await list.togglePin("b")).toBe(true);
    expect(list.find("b")?.pinned).toBe(true);
    expect(await list.rename("a", "  Renamed  ")).toBe(true);
    expect(api.conversations.find((c) => c.id === "a")?.title).toBe("Renamed");
    expect(await list.rename("a", "   ")).toBe(false);
    expect(await list.rename("gone", "x")).toBe(false);
    expect(list.getSnapshot().actionFailed).toBe(true);
  });

  it("refreshes the list when Claude titles the open conversation", () => {
    const before = initialChatState();
    const after = reduceFrame(before, { event: "conversation_titled", data: { title: "Trip" }, seq: 5 });
    expect(after.generatedTitle).toBe("Trip");
    expect(needsRefresh(before, after, () => true)).toBe(true);
    expect(needsRefresh(after, after, () => true)).toBe(false);
  });
});
