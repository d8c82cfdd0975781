import { act, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "@/components/markdown";
import { MessageList } from "@/components/message_list";
import { StatusBadge } from "@/components/status_badge";
import { splitBlocks } from "@/lib/markdown_blocks";
import { preview } from "../helpers/frames";
import { renderChat } from "../helpers/render_chat";

describe("message list", () => {
  it("streams a reply into one bubble and marks it finished", () => {
    const h = renderChat(
      <>
        <StatusBadge />
        <MessageList />
      </>,
      { locale: "en" },
    );
    expect(screen.getByTestId("empty-state")).toBeInTheDocument();
    act(() => {
      h.client.sendMessage("Say hello");
    });
    expect(screen.getByTestId("message-user")).toHaveTextContent("Say hello");
    expect(screen.getByTestId("typing-indicator")).toBeInTheDocument();
    h.receive(h.f.status({ ai_typing: true }), h.f.chunk("Hello"));
    expect(screen.getByTestId("status-badge")).toHaveTextContent("AI typing…");
    const bubble = screen.getByTestId("message-assistant");
    expect(bubble).toHaveAttribute("aria-busy", "true");
    expect(bubble).toHaveTextContent("Hello");
    expect(screen.queryByTestId("typing-indicator")).toBeNull();
    h.receive(h.f.chunk(", **world**"), h.f.done());
    expect(screen.getByTestId("message-assistant")).toBe(bubble);
    expect(bubble).toHaveTextContent("Hello, world");
    expect(within(bubble).getByText("world").tagName).toBe("STRONG");
    expect(bubble).toHaveAttribute("aria-busy", "false");
  });

  it("shows tool chunks as they arrive, with progress against the preview size", () => {
    const h = renderChat(
      <>
        <StatusBadge />
        <MessageList />
      </>,
      { locale: "en" },
    );
    const content = "x".repeat(2048);
    act(() => {
      h.client.sendMessage("write");
    });
    h.receive(h.f.toolRequest("t1", { path: "big.txt", content }, preview("big.txt", content)));
    const card = screen.getByTestId("tool-output-view");
    expect(card).toHaveAttribute("data-state", "requested");
    expect(screen.getByTestId("status-badge")).toHaveTextContent("Awaiting approval");
    act(() => h.client.decide("t1", true));
    h.receive(
      h.f.toolStarted("t1"),
      h.f.status({ tool_running: true, file_path: "big.txt" }),
      h.f.toolChunk("t1", "x".repeat(1024)),
    );
    expect(card).toHaveAttribute("data-state", "running");
    expect(screen.getByTestId("status-badge")).toHaveTextContent("File being created… big.txt");
    expect(within(card).getByTestId("tool-output")).toHaveTextContent("x".repeat(1024));
    expect(within(card).getByTestId("tool-progress")).toHaveTextContent("1 KB of 2 KB");
    expect(within(card).getByTestId("tool-progress")).toHaveTextContent("50%");
    h.receive(h.f.toolChunk("t1", "x".repeat(1024)), h.f.status({ tool_running: false }), h.f.toolFinished("t1"));
    expect(card).toHaveAttribute("data-state", "done");
    expect(within(card).getByTestId("tool-progress")).toHaveTextContent("100%");
  });
});

describe("tool-call cards after a reload", () => {
  it("draws each past call from history like its live card: name, path, state, result", () => {
    const h = renderChat(<MessageList />, { locale: "en" });
    h.receive(
      h.f.session("s1", true),
      h.f.history([
        { role: "user", text: "write two" },
        {
          role: "assistant",
          text: "Writing both.",
          tool_calls: [
            { id: "t1", name: "create_file", summary: "notes/yes.txt", status: "done", decided_by: "tool", result: "Wrote notes/yes.txt" },
            { id: "t2", name: "create_file", summary: "notes/no.txt", status: "denied", decided_by: "person", result: "denied" },
          ],
        },
      ]),
    );
    const [done, denied] = screen.getAllByTestId("tool-output-view");
    expect(done).toHaveAttribute("data-state", "done");
    expect(within(done!).getByTestId("tool-path")).toHaveTextContent("notes/yes.txt");
    expect(within(done!).getByTestId("tool-output")).toHaveTextContent("Wrote notes/yes.txt");
    expect(denied).toHaveAttribute("data-state", "denied");
    expect(within(denied!).getByTestId("tool-path")).toHaveTextContent("notes/no.txt");
  });
});

describe("stopped replies", () => {
  it("marks a reply stopped live, and one stopped earlier when it comes from history", () => {
    const h = renderChat(<MessageList />, { locale: "en" });
    act(() => {
      h.client.sendMessage("Talk");
    });
    h.receive(h.f.chunk("Once upon"));
    expect(screen.queryByTestId("stopped-marker")).toBeNull();
    h.receive(h.f.done("cancelled"));
    const live = screen.getByTestId("message-assistant");
    expect(within(live).getByTestId("stopped-marker")).toHaveTextContent("Stopped");
    expect(live).toHaveTextContent("Once upon");

    // A reload: the same conversation, from history.
    h.receive(
      h.f.session("s1", true),
      h.f.history([
        { role: "user", text: "Talk" },
        { role: "assistant", text: "Once upon", stopped: true },
        { role: "user", text: "Again" },
        { role: "assistant", text: "Done talking." },
      ]),
    );
    const [stopped, finished] = screen.getAllByTestId("message-assistant");
    expect(within(stopped!).getByTestId("stopped-marker")).toHaveTextContent("Stopped");
    expect(within(finished!).queryByTestId("stopped-marker")).toBeNull();
  });

  it("marks a reply stopped before its first word, in Portuguese too", () => {
    const h = renderChat(<MessageList />);
    act(() => {
      h.client.sendMessage("Fale");
    });
    expect(screen.getByTestId("typing-indicator")).toBeInTheDocument();
    h.receive(h.f.status({ ai_typing: false }), h.f.done("cancelled"));
    expect(screen.queryByTestId("typing-indicator")).toBeNull();
    expect(screen.getByTestId("stopped-marker")).toHaveTextContent("Interrompida");
    expect(screen.getByTestId("stopped-marker")).toHaveAttribute("title", "Resposta interrompida.");
  });
});

describe("markdown", () => {
  it("renders raw HTML from the model as text, never as elements", () => {
    const evil =
      'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>\n\n<div onclick="x()">block html</div>';
    const { container } = render(<Markdown text={evil} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("[onclick]")).toBeNull();
    expect(container.querySelector("div.md div")).toBeNull();
    expect(container.textContent).toContain('<img src=x onerror="window.__pwned=1">');
    expect(container.textContent).toContain("<script>window.__pwned=2</script>");
    expect(container.textContent).toContain('<div onclick="x()">block html</div>');
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("neutralizes javascript: links and shows images as links", () => {
    const { container } = render(
      <Markdown text={"[click](javascript:alert(1)) ![pixel](https://tracker.example/p.png)"} />,
    );
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("link", { name: "pixel" })).toHaveAttribute("href", "https://tracker.example/p.png");
  });

  it("renders GFM tables and highlights fenced code", () => {
    const { container } = render(
      <Markdown text={"| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\ndef f():\n    return 1\n```"} />,
    );
    expect(container.querySelector("table")).not.toBeNull();
    expect(container.querySelector("code.hljs.language-python .hljs-keyword")).toHaveTextContent("def");
  });

  it("splits blocks at blank lines outside code fences", () => {
    expect(splitBlocks("a\nb\n\nc\n\n\n```\nx\n\ny\n```\n\n- item\n\n  more")).toEqual([
      "a\nb",
      "c",
      "```\nx\n\ny\n```",
      "- item\n\n  more",
    ]);
  });
});
