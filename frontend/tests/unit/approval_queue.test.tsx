import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalModal } from "@/components/approval_modal";
import { preview } from "../helpers/frames";
import { renderChat, type ChatHarness } from "../helpers/render_chat";

function ask(...paths: string[]): ChatHarness {
  const h = renderChat(<ApprovalModal />);
  act(() => {
    h.client.sendMessage("write them");
  });
  h.receive(
    ...paths.map((path, i) => h.f.toolRequest(`toolu_${i + 1}`, { path, content: path }, preview(path, path))),
  );
  return h;
}

const approvals = (h: ChatHarness) =>
  h.socket.frames.filter((f) => f.event === "tool_approval").map((f) => f.data);

describe("several calls at once", () => {
  it("lists every waiting call; approve all sends one approval per call", async () => {
    const h = ask("a.txt", "b.txt", "c.txt");
    const queue = screen.getByTestId("approval-queue");
    expect(within(queue).getByText("3 chamadas aguardam a sua decisão")).toBeInTheDocument();
    expect(within(queue).getAllByTestId("approval-queue-item").map((li) => li.dataset.toolUseId)).toEqual([
      "toolu_1",
      "toolu_2",
      "toolu_3",
    ]);
    await h.user.click(within(queue).getByRole("button", { name: "Aprovar todas" }));
    expect(approvals(h)).toEqual([
      { tool_use_id: "toolu_1", approved: true },
      { tool_use_id: "toolu_2", approved: true },
      { tool_use_id: "toolu_3", approved: true },
    ]);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("deny all denies every call; a single decision in the list decides only its call", async () => {
    const h = ask("a.txt", "b.txt", "c.txt");
    const second = screen.getAllByTestId("approval-queue-item")[1]!;
    await h.user.click(within(second).getByRole("button", { name: "Negar create_file" }));
    expect(approvals(h)).toEqual([{ tool_use_id: "toolu_2", approved: false }]);
    expect(screen.getAllByTestId("approval-queue-item")).toHaveLength(2);
    await h.user.click(screen.getByRole("button", { name: "Negar todas" }));
    expect(approvals(h).slice(1)).toEqual([
      { tool_use_id: "toolu_1", approved: false },
      { tool_use_id: "toolu_3", approved: false },
    ]);
  });

  it("shows the call the person picks from the list in full", async () => {
    const h = ask("a.txt", "b.txt");
    expect(screen.getByTestId("approval-path")).toHaveTextContent("a.txt");
    const second = screen.getAllByTestId("approval-queue-item")[1]!;
    await h.user.click(within(second).getByRole("button", { name: "Ver create_file" }));
    expect(screen.getByTestId("approval-path")).toHaveTextContent("b.txt");
    await h.user.click(screen.getByTestId("approve-button"));
    expect(approvals(h)).toEqual([{ tool_use_id: "toolu_2", approved: true }]);
    expect(screen.queryByTestId("approval-queue")).toBeNull(); // one call left: no list
    expect(screen.getByTestId("approval-path")).toHaveTextContent("a.txt");
  });
});

describe("tool hints", () => {
  function askWith(annotations: Record<string, boolean>, overwrite: boolean): ChatHarness {
    const h = renderChat(<ApprovalModal />);
    act(() => {
      h.client.sendMessage("write it");
    });
    h.receive(
      h.f.toolRequest("toolu_1", { path: "a.txt", content: "A" }, preview("a.txt", "A", { overwrite }), {
        annotations,
      }),
    );
    return h;
  }

  it("shows the declared hints as badges and warns plainly of a destructive tool", () => {
    askWith({ read_only_hint: false, destructive_hint: true, idempotent_hint: true, open_world_hint: false }, true);
    const hints = within(screen.getByTestId("tool-hints"));
    expect(hints.getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "Destrutiva",
      "Idempotente",
      "Sem acesso externo",
    ]);
    expect(screen.getByTestId("approval-destructive")).toHaveTextContent(
      "Esta ferramenta pode apagar ou sobrescrever dados.",
    );
  });

  it("does not warn when the preview shows the call replaces nothing, nor for a read-only tool", () => {
    askWith({ destructive_hint: true }, false);
    expect(screen.getByTestId("tool-hints")).toHaveTextContent("Destrutiva");
    expect(screen.queryByTestId("approval-destructive")).toBeNull();
  });

  it("reads destructive as MCP does: meaningless for a read-only tool", () => {
    askWith({ read_only_hint: true, destructive_hint: true }, true);
    expect(within(screen.getByTestId("tool-hints")).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "Só leitura",
    ]);
    expect(screen.queryByTestId("approval-destructive")).toBeNull();
  });

  it("shows no badges for a tool whose server declares nothing", () => {
    const h = renderChat(<ApprovalModal />);
    act(() => {
      h.client.sendMessage("go");
    });
    h.receive(h.f.toolRequest("toolu_1", { q: 1 }));
    expect(screen.getByRole("dialog")).toBeInTheDocument();
    expect(screen.queryByTestId("tool-hints")).toBeNull();
  });
});
