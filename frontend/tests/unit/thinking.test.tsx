import { act, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MessageList } from "@/components/message_list";
import { ReplySettings } from "@/components/reply_settings";
import { reduceFrame } from "@/lib/chat_reducer";
import { initialChatState, selectMessages } from "@/lib/chat_state";
import type { ModelChoices, ModelsApi } from "@/lib/models_api";
import { pickerOptions } from "@/lib/models_api";
import type { ServerFrame } from "@/lib/protocol";
import { renderChat } from "../helpers/render_chat";

import { frameMaker } from "../helpers/frames";

function fixedApi(answer: ModelChoices): ModelsApi {
  return { list: () => Promise.resolve(answer) };
}

describe("thinking", () => {
  it("keeps the thinking as its own part before the answer's text", () => {
    const f = frameMaker();
    const frames = [f.thinking("Let me "), f.thinking("think."), f.chunk("Answer.")];
    const state = frames.reduce(reduceFrame, initialChatState());
    const [reply] = selectMessages(state);
    expect(reply?.role === "assistant" && reply.parts).toEqual([
      { type: "thinking", text: "Let me think." },
      { type: "text", text: "Answer." },
    ]);
  });

  it("draws a past reply's thinking from the history, before its text", () => {
    const history: ServerFrame = {
      event: "history",
      data: { messages: [{ role: "assistant", text: "Done.", stopped: false, thinking: "Because." }] },
      seq: 4,
    };
    const [reply] = selectMessages(reduceFrame(initialChatState(), history));
    expect(reply?.role === "assistant" && reply.parts).toEqual([
      { type: "thinking", text: "Because." },
      { type: "text", text: "Done." },
    ]);
  });

  it("shows the thinking open while it streams and folds it when the answer starts", () => {
    const h = renderChat(<MessageList />, { locale: "en" });
    act(() => {
      h.client.sendMessage("why?");
    });
    h.receive(h.f.status({ ai_typing: true }), h.f.thinking("Pondering"));
    const block = screen.getByTestId("thinking-block");
    expect(block).toHaveAttribute("open");
    expect(block).toHaveTextContent("Thinking…");
    expect(screen.getByTestId("thinking-text")).toHaveTextContent("Pondering");
    h.receive(h.f.chunk("Because."));
    expect(screen.getByTestId("thinking-block")).not.toHaveAttribute("open");
    expect(screen.getByTestId("thinking-text")).toHaveTextContent("Pondering");
  });
});

describe("reply settings", () => {
  it("takes the conversation's settings from the server and sends a change as configure", async () => {
    const api = fixedApi({
      models: [
        { id: "claude-opus-4-6", display_name: "Claude Opus 4.6" },
        { id: "claude-sonnet-4-6", display_name: "Claude Sonnet 4.6" },
      ],
      default: "claude-sonnet-4-6",
      fallback: false,
    });
    const h = renderChat(<ReplySettings api={api} />, { locale: "en" });
    h.receive(h.f.settings("claude-sonnet-4-6"));
    const picker = screen.getByTestId("model-picker");
    await waitFor(() => expect(picker.querySelectorAll("option")).toHaveLength(2));
    expect(picker).toHaveValue("claude-sonnet-4-6");
    await h.user.selectOptions(picker, "claude-opus-4-6");
    await h.user.click(screen.getByTestId("thinking-toggle"));
    expect(h.socket.frames.filter((f) => f.event === "configure")).toEqual([
      { event: "configure", data: { model: "claude-opus-4-6" } },
      { event: "configure", data: { thinking: true } },
    ]);
    h.receive(h.f.settings("claude-opus-4-6", true));
    expect(picker).toHaveValue("claude-opus-4-6");
    expect(screen.getByTestId("thinking-toggle")).toBeChecked();
  }, 30_000);

  it("says when only the default model is offered", async () => {
    const api = fixedApi({
      models: [{ id: "claude-sonnet-4-6", display_name: "claude-sonnet-4-6" }],
      default: "claude-sonnet-4-6",
      fallback: true,
    });
    renderChat(<ReplySettings api={api} />, { locale: "en" });
    expect(await screen.findByTestId("models-fallback")).toHaveTextContent("Model list unavailable");
  });

  it("lists the default and the conversation's own model even when the list lacks them", () => {
    const choices = { models: [{ id: "b", display_name: "B" }], default: "a", fallback: false };
    expect(pickerOptions(choices, "c").map((m) => m.id)).toEqual(["a", "c", "b"]);
    expect(pickerOptions(null, "c").map((m) => m.id)).toEqual(["c"]);
  });
});
