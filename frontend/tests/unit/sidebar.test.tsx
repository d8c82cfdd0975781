import { act, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ConversationSidebar } from "@/components/conversation_sidebar";
import { DeleteConversationDialog } from "@/components/delete_conversation_dialog";
import { MessageList } from "@/components/message_list";
import { ConversationList } from "@/lib/conversation_list";
import type { ConversationSummary } from "@/lib/conversations_api";
import { FakeWebSocket } from "../helpers/fake_socket";
import { conversation, FakeConversationsApi } from "../helpers/fake_api";
import { frameMaker } from "../helpers/frames";
import { renderChat } from "../helpers/render_chat";

const ui = () => (
  <>
    <ConversationSidebar />
    <DeleteConversationDialog />
    <MessageList />
  </>
);

async function setup(
  items: ConversationSummary[],
  { sessionId = "c2", failList = false }: { sessionId?: string; failList?: boolean } = {},
) {
  const api = new FakeConversationsApi(items);
  api.failList = failList;
  const conversations = new ConversationList(api);
  const h = renderChat(ui(), { locale: "en", sessionId, sessionStore: sessionStorage, conversations });
  const unfollow = conversations.follow(h.client.store);
  await act(async () => {
    await conversations.refresh();
  });
  return { ...h, api, conversations, unfollow };
}

const TWO = () => [conversation("c2", "Plan the trip", 5), conversation("c1", "Write a poem", 2 * 24 * 60)];

const nav = () => screen.getByRole("navigation", { name: "Conversations" });
const titles = () => within(nav()).queryAllByTestId("conversation-title").map((el) => el.textContent);
const item = (title: string) => within(nav()).getByRole("button", { name: new RegExp(`^${title}`) });

describe("conversation sidebar", () => {
  it("lists titled conversations newest first, with relative times, and marks the open one", async () => {
    await setup([...TWO(), conversation("c0", "   ", 1)]);
    expect(titles()).toEqual(["Plan the trip", "Write a poem"]);
    const items = within(nav()).getAllByTestId("conversation-item");
    expect(items[0]).toHaveTextContent("5 minutes ago");
    expect(items[1]).toHaveTextContent("2 days ago");
    expect(item("Plan the trip")).toHaveAttribute("aria-current", "page");
    expect(item("Write a poem")).not.toHaveAttribute("aria-current");
    expect(screen.getByRole("button", { name: "Delete the conversation “Write a poem”" })).toBeInTheDocument();
    expect(screen.queryByTestId("sidebar-empty")).toBeNull();
  });

  it("offers to load more while the server has more pages, and appends them", async () => {
    const api = new FakeConversationsApi([...TWO(), conversation("c0", "Older", 3 * 24 * 60)]);
    api.pageSize = 2;
    const conversations = new ConversationList(api);
    renderChat(ui(), { locale: "en", sessionId: "c2", sessionStore: sessionStorage, conversations });
    await act(async () => {
      await conversations.refresh();
    });
    expect(titles()).toEqual(["Plan the trip", "Write a poem"]);
    act(() => within(nav()).getByRole("button", { name: "Load more" }).click());
    await waitFor(() => expect(titles()).toEqual(["Plan the trip", "Write a poem", "Older"]));
    expect(within(nav()).queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("shows an empty state when there is no conversation with a message yet", async () => {
    await setup([conversation("c2", "", 0)]);
    expect(screen.getByTestId("sidebar-empty")).toHaveTextContent("No conversations yet.");
    expect(titles()).toEqual([]);
  });

  it("shows a loading state until the list arrives", async () => {
    const api = new FakeConversationsApi(TWO());
    api.hold();
    const conversations = new ConversationList(api);
    renderChat(ui(), { locale: "en", conversations });
    let loaded!: Promise<void>;
    act(() => {
      loaded = conversations.refresh();
    });
    expect(within(nav()).getByRole("status")).toHaveTextContent("Loading conversations…");
    await act(async () => {
      api.release();
      await loaded;
    });
    expect(screen.queryByTestId("sidebar-loading")).toBeNull();
    expect(titles()).toEqual(["Plan the trip", "Write a poem"]);
  });

  it("says so when the list cannot be loaded, and loads it on Retry", async () => {
    const h = await setup(TWO(), { failList: true });
    const alert = within(nav()).getByRole("alert");
    expect(alert).toHaveTextContent("Couldn't load the conversations.");
    expect(titles()).toEqual([]);
    h.api.failList = false;
    await h.user.click(within(alert).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(titles()).toEqual(["Plan the trip", "Write a poem"]));
    expect(within(nav()).queryByRole("alert")).toBeNull();
  });

  it("switches conversation: reconnects to it without last_seq and shows its history", async () => {
    const h = await setup(TWO());
    act(() => {
      h.client.sendMessage("Where to?");
    });
    h.receive(h.f.chunk("Lisbon."), h.f.done());
    expect(sessionStorage.getItem("gatehouse.session")).toBe("c2");

    await h.user.click(item("Write a poem"));
    expect(h.socket.readyState).toBe(FakeWebSocket.CLOSED);
    const next = FakeWebSocket.last;
    expect(next).not.toBe(h.socket);
    const url = new URL(next.url);
    expect(url.searchParams.get("session_id")).toBe("c1");
    expect(url.searchParams.has("last_seq")).toBe(false);
    expect(sessionStorage.getItem("gatehouse.session")).toBe("c1");
    // Nothing of the other conversation, and no welcome screen: its history is on the way.
    expect(screen.queryByText("Lisbon.")).toBeNull();
    expect(screen.getByTestId("history-loading")).toHaveTextContent("Loading the conversation…");

    const g = frameMaker(12);
    act(() => {
      next.open();
      next.receive(g.session("c1", true));
      next.receive(
        g.history([
          { role: "user", text: "Write a poem" },
          { role: "assistant", text: "Roses are red" },
        ]),
      );
    });
    expect(screen.getByTestId("message-user")).toHaveTextContent("Write a poem");
    expect(screen.getByTestId("message-assistant")).toHaveTextContent("Roses are red");
    expect(screen.queryByTestId("history-loading")).toBeNull();
    expect(item("Write a poem")).toHaveAttribute("aria-current", "page");
    expect(item("Plan the trip")).not.toHaveAttribute("aria-current");

    // Choosing the open one again does not reconnect.
    const sockets = FakeWebSocket.instances.length;
    await h.user.click(item("Write a poem"));
    expect(FakeWebSocket.instances.length).toBe(sockets);
  });

  it("starts a new conversation, which is not offered again while it is empty", async () => {
    const h = await setup(TWO());
    const newChat = within(nav()).getByRole("button", { name: "New chat" });
    expect(newChat).toBeDisabled();
    act(() => {
      h.client.sendMessage("hi");
    });
    h.receive(h.f.done());
    expect(newChat).toBeEnabled();
    await h.user.click(newChat);
    expect(new URL(FakeWebSocket.last.url).searchParams.has("session_id")).toBe(false);
    expect(sessionStorage.getItem("gatehouse.session")).toBeNull();
    expect(screen.getByTestId("empty-state")).toBeInTheDocument();
    expect(newChat).toBeDisabled();
  });

  it("deletes a conversation only after a confirmation", async () => {
    const h = await setup(TWO());
    const sockets = FakeWebSocket.instances.length;
    const deleteButton = screen.getByRole("button", { name: "Delete the conversation “Write a poem”" });
    await h.user.click(deleteButton);
    const dialog = screen.getByRole("alertdialog", { name: "Delete conversation?" });
    expect(dialog).toHaveAccessibleDescription(
      "“Write a poem” and all its messages will be deleted. This can't be undone.",
    );
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();

    await h.user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(h.api.removeCalls).toEqual([]);
    expect(titles()).toEqual(["Plan the trip", "Write a poem"]);
    expect(deleteButton).toHaveFocus();

    // Escape cancels too.
    await h.user.click(deleteButton);
    await h.user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(h.api.removeCalls).toEqual([]);

    const listCalls = h.api.listCalls;
    await h.user.click(deleteButton);
    await h.user.click(screen.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(h.api.removeCalls).toEqual(["c1"]);
    expect(titles()).toEqual(["Plan the trip"]);
    await waitFor(() => expect(h.api.listCalls).toBe(listCalls + 1));
    // Another conversation was deleted: the open one goes on, on the same socket.
    expect(FakeWebSocket.instances.length).toBe(sockets);
    expect(item("Plan the trip")).toHaveAttribute("aria-current", "page");
  });

  it("deleting the open conversation moves to a new one first", async () => {
    const h = await setup(TWO());
    act(() => {
      h.client.sendMessage("Where to?");
    });
    h.receive(h.f.chunk("Lisbon."), h.f.done());
    let socketsWhenDeleted = 0;
    const remove = h.api.remove.bind(h.api);
    vi.spyOn(h.api, "remove").mockImplementation((id) => {
      socketsWhenDeleted = FakeWebSocket.instances.length;
      return remove(id);
    });
    const sockets = FakeWebSocket.instances.length;

    await h.user.click(screen.getByRole("button", { name: "Delete the conversation “Plan the trip”" }));
    await h.user.click(screen.getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(titles()).toEqual(["Write a poem"]));
    expect(socketsWhenDeleted).toBe(sockets + 1);
    expect(h.socket.readyState).toBe(FakeWebSocket.CLOSED);
    expect(new URL(FakeWebSocket.last.url).searchParams.has("session_id")).toBe(false);
    expect(sessionStorage.getItem("gatehouse.session")).toBeNull();
    expect(screen.queryByText("Lisbon.")).toBeNull();
    expect(screen.getByTestId("empty-state")).toBeInTheDocument();
  });

  it("keeps the conversation and says so when the delete fails", async () => {
    const h = await setup(TWO());
    h.api.failRemove = true;
    await h.user.click(screen.getByRole("button", { name: "Delete the conversation “Write a poem”" }));
    await h.user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("alertdialog");
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "Couldn't delete the conversation. Try again.",
    );
    // Behind the open dialog the list is hidden from assistive tech, but still there.
    expect(document.querySelectorAll('[data-testid="conversation-title"]')).toHaveLength(2);
    h.api.failRemove = false;
    await h.user.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(titles()).toEqual(["Plan the trip"]));
    expect(h.api.removeCalls).toEqual(["c1", "c1"]);
  });

  it("refreshes when the open conversation gets its first message and when a reply completes", async () => {
    const h = await setup(TWO(), { sessionId: "c3" });
    expect(h.api.listCalls).toBe(1);
    act(() => {
      h.client.sendMessage("Name a colour");
    });
    expect(h.api.listCalls).toBe(1);
    // The server saved the message (and so the title) before it says the AI is typing.
    h.api.conversations.unshift(conversation("c3", "Name a colour"));
    h.receive(h.f.status({ ai_typing: true }));
    await waitFor(() => expect(titles()).toEqual(["Name a colour", "Plan the trip", "Write a poem"]));
    expect(h.api.listCalls).toBe(2);
    expect(item("Name a colour")).toHaveAttribute("aria-current", "page");

    h.receive(h.f.chunk("Blue."), h.f.status({ ai_typing: false }), h.f.done());
    await waitFor(() => expect(h.api.listCalls).toBe(3));

    // A later message of a listed conversation: only its completion reloads the list.
    act(() => {
      h.client.sendMessage("Another");
    });
    h.receive(h.f.status({ ai_typing: true }), h.f.chunk("Red."));
    await act(async () => {});
    expect(h.api.listCalls).toBe(3);
    h.receive(h.f.done());
    await waitFor(() => expect(h.api.listCalls).toBe(4));
    h.unfollow();
  });

  it("moves between conversations with the arrow keys", async () => {
    const h = await setup([...TWO(), conversation("c0", "Old one", 60 * 24 * 40)]);
    expect(within(nav()).getAllByTestId("conversation-item")[2]).toHaveTextContent("last month");
    item("Plan the trip").focus();
    await h.user.keyboard("{ArrowDown}");
    expect(item("Write a poem")).toHaveFocus();
    await h.user.keyboard("{End}");
    expect(item("Old one")).toHaveFocus();
    await h.user.keyboard("{ArrowDown}");
    expect(item("Old one")).toHaveFocus();
    await h.user.keyboard("{Home}");
    expect(item("Plan the trip")).toHaveFocus();
    await h.user.keyboard("{ArrowDown}{Enter}");
    expect(new URL(FakeWebSocket.last.url).searchParams.get("session_id")).toBe("c1");
  });
});
