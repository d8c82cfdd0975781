import { act, fireEvent, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalModal } from "@/components/approval_modal";
import { ToolOutputView } from "@/components/tool_output_view";
import { reduceFrame } from "@/lib/chat_reducer";
import { initialChatState, selectPendingTool } from "@/lib/chat_state";
import type { ServerFrame } from "@/lib/protocol";
import { frameMaker } from "../helpers/frames";
import { renderChat, type ChatHarness } from "../helpers/render_chat";

function request(h: ChatHarness, proposed_glob: string | null = "notes/**"): void {
  act(() => {
    h.client.sendMessage("write it");
  });
  const input = { path: "notes/a.txt", content: "x" };
  h.receive({
    event: "tool_request",
    data: { id: "toolu_1", name: "create_file", input, server: "workspace", proposed_glob },
    seq: h.f.seq + 1,
  });
}

const decided = (seq: number, tool_use_id: string, decision: "allowed" | "denied"): ServerFrame => ({
  event: "tool_decided",
  data: {
    tool_use_id,
    name: "create_file",
    server: "workspace",
    input: { path: "notes/b.txt", content: "y" },
    decision,
    rule_id: "r1",
    rule_label: "notes/**",
    rule_source: "dialog",
  },
  seq,
});

const approvals = (h: ChatHarness) => h.socket.frames.filter((f) => f.event === "tool_approval");

describe("approval scopes", () => {
  it("approves for the conversation with the proposed folder glob, edited", async () => {
    const h = renderChat(<ApprovalModal />);
    request(h);
    await h.user.click(screen.getByTestId("scope-conversation"));
    const glob = screen.getByTestId("scope-glob");
    expect(glob).toHaveValue("notes/**");
    fireEvent.change(glob, { target: { value: "notes/*.txt" } });
    await h.user.click(screen.getByRole("button", { name: "Aprovar" }));
    expect(approvals(h)).toEqual([
      {
        event: "tool_approval",
        data: { tool_use_id: "toolu_1", approved: true, scope: "conversation", path_glob: "notes/*.txt" },
      },
    ]);
  }, 20_000); // user-event clicks are slow on a loaded machine; nothing here waits on time

  it("denies always with a reason", async () => {
    const h = renderChat(<ApprovalModal />);
    request(h, null);
    await h.user.click(screen.getByTestId("scope-always"));
    expect(screen.queryByTestId("scope-glob")).toBeNull(); // no path: the rule covers the tool
    fireEvent.change(screen.getByTestId("deny-reason"), { target: { value: " use the notes folder " } });
    await h.user.click(screen.getByRole("button", { name: "Negar" }));
    expect(approvals(h)).toEqual([
      {
        event: "tool_approval",
        data: { tool_use_id: "toolu_1", approved: false, scope: "always", reason: "use the notes folder" },
      },
    ]);
  }, 20_000);

  it("shows a call a rule allowed unasked as a card naming the rule", () => {
    const h = renderChat(<ToolOutputView toolUseId="toolu_2" />);
    act(() => {
      h.client.sendMessage("write it");
    });
    h.receive(decided(h.f.seq + 1, "toolu_2", "allowed"));
    expect(screen.getByTestId("tool-rule")).toHaveTextContent("Permitida pela regra notes/**");
    expect(screen.getByTestId("tool-output-view")).toHaveAttribute("data-state", "approved");
  });
});

describe("reducer: decisions by rule and refused answers", () => {
  it("a rule deciding a waiting call closes its dialog", () => {
    const f = frameMaker();
    let state = [f.session(), f.toolRequest("toolu_1", { path: "a" })].reduce(reduceFrame, initialChatState());
    expect(selectPendingTool(state)?.id).toBe("toolu_1");
    state = reduceFrame(state, decided(f.seq + 1, "toolu_1", "denied"));
    expect(selectPendingTool(state)).toBeNull();
    expect(state.toolCalls.toolu_1?.state).toBe("denied");
    expect(state.toolCalls.toolu_1?.rule?.label).toBe("notes/**");
  });

  it("an invalid edit leaves the call waiting, with a notice", () => {
    const f = frameMaker();
    let state = [f.session(), f.toolRequest("toolu_1", { path: "a" })].reduce(reduceFrame, initialChatState());
    state = reduceFrame(state, f.error("A entrada editada é inválida", { code: "invalid_edit", tool_use_id: "toolu_1" }));
    expect(selectPendingTool(state)?.id).toBe("toolu_1");
    expect(state.notices.map((n) => n.code)).toEqual(["invalid_edit"]);
  });

  it("a past call a rule decided keeps its rule after a reload; a revoked one says so", () => {
    const f = frameMaker();
    const card = (id: string, extra: object) => ({ id, name: "create_file", summary: `${id}.txt`, status: "done" as const, ...extra });
    const state = [
      f.session(),
      f.history([
        {
          role: "assistant",
          text: "ok",
          tool_calls: [
            card("toolu_1", { rule_id: "r1", rule_label: "notes/**", rule_source: "dialog" }),
            card("toolu_2", { rule_id: "r2" }),
            card("toolu_3", { decided_by: "person" }),
          ],
        },
      ]),
    ].reduce(reduceFrame, initialChatState());
    expect(state.toolCalls.toolu_1?.rule).toEqual({ id: "r1", label: "notes/**", source: "dialog", decision: "allowed" });
    expect(state.toolCalls.toolu_2?.rule?.gone).toBe(true);
    expect(state.toolCalls.toolu_3?.rule).toBeNull();
  });
});
