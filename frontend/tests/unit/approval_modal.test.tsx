import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalModal } from "@/components/approval_modal";
import { preview } from "../helpers/frames";
import { renderChat, type ChatHarness } from "../helpers/render_chat";

const CONTENT = Array.from({ length: 300 }, (_, i) => `line ${i + 1}`).join("\n");

function openModal(extra: Parameters<typeof preview>[2] = {}): ChatHarness {
  const h = renderChat(
    <>
      <button type="button">outside</button>
      <ApprovalModal />
    </>,
  );
  act(() => {
    h.client.sendMessage("write it");
  });
  h.receive(
    h.f.toolRequest(
      "toolu_1",
      { path: "notes/a.txt", content: CONTENT },
      preview("notes/a.txt", CONTENT, extra),
    ),
  );
  return h;
}

const approvals = (h: ChatHarness) => h.socket.frames.filter((f) => f.event === "tool_approval");

describe("approval modal", () => {
  it("is a labelled modal dialog showing tool, server, path, size and a preview", () => {
    openModal();
    const dialog = screen.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(within(dialog).getByTestId("approval-tool")).toHaveTextContent("create_file");
    expect(within(dialog).getByTestId("approval-server")).toHaveTextContent("workspace");
    expect(within(dialog).getByTestId("approval-path")).toHaveTextContent("notes/a.txt");
    expect(within(dialog).getByTestId("approval-size")).toHaveTextContent("2,5 KB");
    expect(within(dialog).getByTestId("approval-size")).toHaveAttribute("title", "2591 B");
    const previewPanel = within(dialog).getByTestId("approval-preview");
    expect(previewPanel).toHaveTextContent("line 1");
    expect(previewPanel).toHaveTextContent("line 200");
    expect(previewPanel).not.toHaveTextContent("line 201");
    expect(previewPanel).toHaveTextContent("… mais 100 linhas");
    expect(screen.queryByTestId("approval-overwrite")).toBeNull();
  });

  it("sends an approval and closes on Approve", async () => {
    const h = openModal();
    await h.user.click(screen.getByRole("button", { name: "Aprovar" }));
    expect(approvals(h)).toEqual([
      { event: "tool_approval", data: { tool_use_id: "toolu_1", approved: true } },
    ]);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("sends a denial on Deny", async () => {
    const h = openModal();
    await h.user.click(screen.getByRole("button", { name: "Negar" }));
    expect(approvals(h)).toEqual([
      { event: "tool_approval", data: { tool_use_id: "toolu_1", approved: false } },
    ]);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("denies on Escape", async () => {
    const h = openModal();
    await h.user.keyboard("{Escape}");
    expect(approvals(h)).toEqual([
      { event: "tool_approval", data: { tool_use_id: "toolu_1", approved: false } },
    ]);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("traps focus inside the dialog", async () => {
    const h = openModal();
    const dialog = screen.getByRole("dialog");
    expect(dialog).toHaveFocus();
    const seen = new Set<Element>();
    for (let i = 0; i < 8; i++) {
      await h.user.tab();
      expect(dialog.contains(document.activeElement)).toBe(true);
      if (document.activeElement) seen.add(document.activeElement);
    }
    // The preview, Deny and Approve are reachable; "outside" never is.
    expect(seen).toContain(screen.getByRole("button", { name: "Aprovar" }));
    expect(seen).toContain(screen.getByRole("button", { name: "Negar" }));
    await h.user.tab({ shift: true });
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(approvals(h)).toEqual([]);
  });

  it("warns before overwriting and blocks approval of an invalid path", () => {
    openModal({ overwrite: true, valid_path: false, problem: "path escapes the workspace" });
    expect(screen.getByTestId("approval-overwrite")).toHaveTextContent(
      "Este arquivo já existe e será sobrescrito.",
    );
    expect(screen.getByTestId("approval-problem")).toHaveTextContent(
      "Caminho inválido: path escapes the workspace",
    );
    expect(screen.getByRole("button", { name: "Aprovar" })).toBeDisabled();
  });

  it("asks about parallel calls one after the other", async () => {
    const h = openModal();
    h.receive(h.f.toolRequest("toolu_2", { path: "b.txt", content: "b" }, preview("b.txt", "b")));
    expect(screen.getByTestId("approval-queue")).toHaveTextContent("2 chamadas aguardam a sua decisão");
    await h.user.click(screen.getByRole("button", { name: "Aprovar" }));
    expect(screen.getByTestId("approval-path")).toHaveTextContent("b.txt");
    await h.user.click(screen.getByRole("button", { name: "Negar" }));
    expect(approvals(h).map((f) => f.event === "tool_approval" && f.data)).toEqual([
      { tool_use_id: "toolu_1", approved: true },
      { tool_use_id: "toolu_2", approved: false },
    ]);
  });
});

describe("the path to approve", () => {
  function openWithPath(path: string): HTMLElement {
    const h = renderChat(<ApprovalModal />, { locale: "en" });
    act(() => {
      h.client.sendMessage("write it");
    });
    h.receive(h.f.toolRequest("toolu_1", { path, content: "x" }, preview(path, "x")));
    return screen.getByTestId("approval-path");
  }

  it("is shown whole, however long, wrapped rather than cut short", () => {
    const path = `${"very-long-folder-name/".repeat(20)}notes.md`;
    const shown = openWithPath(path);
    expect(shown).toHaveTextContent(path);
    expect(shown).not.toHaveClass("truncate");
    expect(shown.parentElement).toHaveClass("col-span-full");
  });

  it("shows bidirectional and invisible characters as marks, left to right", () => {
    // U+202E would draw "txt.exe" as "exe.txt"; U+200B is invisible.
    const shown = openWithPath("docs/report\u202Etxt.exe\u200B");
    expect(shown.textContent).toBe("docs/reportU+202Etxt.exeU+200B");
    expect(within(shown).getAllByTestId("hidden-char").map((mark) => mark.title)).toEqual([
      "U+202E",
      "U+200B",
    ]);
    expect(shown.querySelector("bdi")).toHaveAttribute("dir", "ltr");
  });
});
