import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApprovalModal } from "@/components/approval_modal";
import { MessageList } from "@/components/message_list";
import { splitRows, unifiedRows } from "@/lib/diff_rows";
import type { FileDiff } from "@/lib/protocol";
import { preview } from "../helpers/frames";
import { renderChat } from "../helpers/render_chat";

const DIFF: FileDiff = {
  added: 2,
  removed: 1,
  hunks: [
    {
      old_start: 1,
      old_lines: 3,
      new_start: 1,
      new_lines: 4,
      lines: [" def f(x):", "-    return x", "+    return x * 2", "+# done", " print(f(1))"],
    },
  ],
  truncated: false,
  skipped: null,
};

function chat() {
  const h = renderChat(
    <>
      <MessageList />
      <ApprovalModal />
    </>,
  );
  act(() => {
    h.client.sendMessage("write calc.py");
  });
  return h;
}

describe("a call Claude is still writing", () => {
  it("opens a draft card on the path and grows its highlighted content, then asks on it", () => {
    const h = chat();
    h.receive(h.f.toolInputDelta("toolu_1", { path: "src/calc.py" }));
    const card = screen.getByTestId("tool-output-view");
    expect(card).toHaveAttribute("data-state", "drafting");
    expect(within(card).getByTestId("tool-path")).toHaveTextContent("src/calc.py");

    h.receive(h.f.toolInputDelta("toolu_1", { content: "def f(x):\n" }));
    h.receive(h.f.toolInputDelta("toolu_1", { content: "    return x\n" }, ["content"]));
    const draft = within(card).getByTestId("tool-draft-content");
    const lines = [...draft.querySelectorAll("code")].map((line) => line.textContent);
    expect(lines.slice(0, 2)).toEqual(["def f(x):", "    return x"]);
    expect(draft).toHaveAttribute("data-language", "py");
    expect(draft.querySelector(".hljs-keyword")).toHaveTextContent("def");
    expect(screen.queryByTestId("approval-modal")).toBeNull();

    const content = "def f(x):\n    return x\n";
    h.receive(h.f.toolRequest("toolu_1", { path: "src/calc.py", content }, preview("src/calc.py", content)));
    expect(screen.getAllByTestId("tool-output-view")).toHaveLength(1); // the same card
    expect(card).toHaveAttribute("data-state", "requested");
    expect(screen.getByTestId("approval-modal")).toBeInTheDocument();
  });

  it("closes a draft the checks refused, saying so", () => {
    const h = chat();
    h.receive(h.f.toolInputDelta("toolu_2", { path: "x.txt", content: "never clos" }));
    h.receive(h.f.toolFinished("toolu_2", "invalid", "invalid_input"));
    const card = screen.getByTestId("tool-output-view");
    expect(card).toHaveAttribute("data-state", "failed");
    expect(card).toHaveTextContent("A chamada era inválida e não foi executada");
    expect(screen.queryByTestId("approval-modal")).toBeNull();
  });

  it("says when the draft stopped at its size limit", () => {
    const h = chat();
    h.receive(h.f.toolInputDelta("toolu_3", { path: "big.txt", content: "abc" }));
    h.receive(h.f.toolInputDelta("toolu_3", {}, [], true));
    expect(screen.getByTestId("tool-draft")).toHaveTextContent("A prévia parou aqui");
  });
});

describe("the diff in the approval dialog", () => {
  function ask(diff: FileDiff) {
    const h = chat();
    const content = "def f(x):\n    return x * 2\n# done\nprint(f(1))\n";
    h.receive(
      h.f.toolRequest(
        "toolu_d",
        { path: "calc.py", content },
        preview("calc.py", content, { overwrite: true, diff }),
      ),
    );
    return screen.getByTestId("approval-modal");
  }

  it("shows counts and a highlighted unified diff, and side by side on request", async () => {
    const dialog = ask(DIFF);
    expect(within(dialog).getByTestId("diff-added")).toHaveTextContent("+2");
    expect(within(dialog).getByTestId("diff-removed")).toHaveTextContent("−1");
    const unified = within(dialog).getByTestId("diff-unified");
    const kinds = [...unified.querySelectorAll("tr[data-kind]")].map((row) => row.getAttribute("data-kind"));
    expect(kinds).toEqual(["context", "removed", "added", "added", "context"]);
    expect(unified.querySelector(".hljs-keyword")).toHaveTextContent("def");
    expect(within(dialog).queryByTestId("approval-preview")).toBeNull();

    act(() => within(dialog).getByTestId("diff-layout-split").click());
    const split = within(dialog).getByTestId("diff-split");
    const cells = [...split.querySelectorAll("td[data-kind]")].map((cell) => cell.getAttribute("data-kind"));
    // before | after, a removed line beside the added line that replaced it
    expect(cells).toEqual(["context", "context", "removed", "added", "empty", "added", "context", "context"]);
  });

  it("says a binary or too large file cannot be compared, and still previews the content", () => {
    const dialog = ask({ added: 0, removed: 0, hunks: [], truncated: false, skipped: "binary" });
    expect(within(dialog).getByTestId("diff-skipped")).toHaveTextContent("Arquivo binário");
    expect(within(dialog).getByTestId("approval-preview")).toHaveTextContent("return x * 2");
  });
});

describe("diff rows", () => {
  it("number the lines of both files", () => {
    const rows = unifiedRows(DIFF.hunks).flatMap((row) => (row.type === "line" ? [[row.oldNumber, row.newNumber]] : []));
    expect(rows).toEqual([
      [1, 1],
      [2, null],
      [null, 2],
      [null, 3],
      [3, 4],
    ]);
    expect(splitRows(DIFF.hunks)).toHaveLength(5); // the hunk header and four pairs
  });
});
