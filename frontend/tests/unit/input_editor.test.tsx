import { act, fireEvent, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalModal } from "@/components/approval_modal";
import { editedInput, editForm, sameInput } from "@/lib/input_edit";
import { renderChat, type ChatHarness } from "../helpers/render_chat";

function request(h: ChatHarness, name: string, input: Record<string, unknown>): void {
  act(() => {
    h.client.sendMessage("go");
  });
  h.receive(h.f.toolRequest("toolu_1", input, null, { name }));
}

const approvals = (h: ChatHarness) => h.socket.frames.filter((f) => f.event === "tool_approval");

describe("input_edit", () => {
  it("edits a call with a path as a path and a content, keeping its other fields", () => {
    const form = editForm({ path: "a.txt", content: "x", mode: "w" });
    expect(form).toEqual({ kind: "file", path: "a.txt", content: "x" });
    expect(editedInput({ path: "a.txt", content: "x", mode: "w" }, { kind: "file", path: "b.txt", content: "y" })).toEqual({
      ok: true,
      input: { path: "b.txt", content: "y", mode: "w" },
    });
    expect(editedInput({ path: "a" }, { kind: "file", path: "  ", content: null })).toEqual({ ok: false, error: "empty_path" });
  });

  it("edits any other call as JSON, which must parse to an object", () => {
    expect(editForm({ url: "https://x" })).toEqual({ kind: "json", text: '{\n  "url": "https://x"\n}' });
    expect(editedInput({}, { kind: "json", text: "{nope" })).toEqual({ ok: false, error: "invalid_json" });
    expect(editedInput({}, { kind: "json", text: "[1]" })).toEqual({ ok: false, error: "not_an_object" });
    expect(editedInput({}, { kind: "json", text: '{"a": 1}' })).toEqual({ ok: true, input: { a: 1 } });
  });

  it("compares inputs whatever their key order", () => {
    expect(sameInput({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toBe(true);
    expect(sameInput({ a: 1 }, { a: 2 })).toBe(false);
  });
});

describe("edit before approving", () => {
  it("sends the edited path and content with the approval", async () => {
    const h = renderChat(<ApprovalModal />);
    request(h, "create_file", { path: "notes/a.txt", content: "old" });
    await h.user.click(screen.getByTestId("edit-input"));
    fireEvent.change(screen.getByTestId("edit-path"), { target: { value: "notes/b.txt" } });
    fireEvent.change(screen.getByTestId("edit-content"), { target: { value: "new text" } });
    expect(screen.getByTestId("edit-note")).toBeInTheDocument();
    await h.user.click(screen.getByTestId("approve-button"));
    expect(approvals(h)).toEqual([
      {
        event: "tool_approval",
        data: { tool_use_id: "toolu_1", approved: true, input: { path: "notes/b.txt", content: "new text" } },
      },
    ]);
  }, 20_000);

  it("refuses to approve JSON that does not parse, and sends no input when nothing changed", async () => {
    const h = renderChat(<ApprovalModal />);
    request(h, "fetch", { url: "https://example.com" });
    await h.user.click(screen.getByTestId("edit-input"));
    fireEvent.change(screen.getByTestId("edit-json"), { target: { value: "{broken" } });
    expect(screen.getByTestId("edit-error")).toHaveTextContent("JSON inválido.");
    expect(screen.getByTestId("approve-button")).toBeDisabled();
    fireEvent.change(screen.getByTestId("edit-json"), { target: { value: '{"url":"https://example.com"}' } });
    await h.user.click(screen.getByTestId("approve-button"));
    expect(approvals(h)).toEqual([{ event: "tool_approval", data: { tool_use_id: "toolu_1", approved: true } }]);
  }, 20_000);

  it("shows the server's refusal with its code and reopens with the edit that was sent", async () => {
    const h = renderChat(<ApprovalModal />);
    request(h, "create_file", { path: "notes/a.txt", content: "old" });
    await h.user.click(screen.getByTestId("edit-input"));
    fireEvent.change(screen.getByTestId("edit-path"), { target: { value: "../escape.txt" } });
    await h.user.click(screen.getByTestId("approve-button"));
    expect(screen.queryByTestId("approval-modal")).toBeNull();
    h.receive(h.f.error("A entrada editada é inválida", { code: "invalid_edit", tool_use_id: "toolu_1" }));
    expect(screen.getByTestId("edit-refused")).toHaveTextContent("invalid_edit");
    expect(screen.getByTestId("edit-path")).toHaveValue("../escape.txt");
    await h.user.click(screen.getByTestId("approve-button"));
    expect(approvals(h).at(-1)?.data).toMatchObject({ input: { path: "../escape.txt", content: "old" } });
  }, 20_000);
});
