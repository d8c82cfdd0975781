import { describe, expect, it } from "vitest";
import { reduce, reduceFrame, type ChatAction } from "@/lib/chat_reducer";
import {
  initialChatState,
  selectContinuable,
  selectMessages,
  type AssistantChatMessage,
  type ChatState,
} from "@/lib/chat_state";
import type { ServerFrame } from "@/lib/protocol";
import { frameMaker } from "../helpers/frames";

const frame = (f: ServerFrame): ChatAction => ({ type: "frame", frame: f });
const run = (actions: ChatAction[], state: ChatState = initialChatState()) =>
  actions.reduce(reduce, state);
const feed = (frames: ServerFrame[], state: ChatState = initialChatState()) =>
  frames.reduce(reduceFrame, state);
const open: ChatAction = { type: "connection", connection: "open" };
const sent = (text: string): ChatAction => ({ type: "user_sent", text });
const continued: ChatAction = { type: "continue_sent" };

function assistants(state: ChatState): AssistantChatMessage[] {
  return selectMessages(state).flatMap((m) => (m.role === "assistant" ? [m] : []));
}
const textOf = (m: AssistantChatMessage) =>
  m.parts.map((p) => (p.type === "text" ? p.text : `[${p.type}]`)).join("");

describe("stop reasons", () => {
  it("marks a reply cut at max_tokens, and Continue appends to the same bubble", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("q")]);
    state = feed([f.chunk("The answer "), f.status({ ai_typing: false }), f.cutShort("max_tokens")], state);
    const [cut] = assistants(state);
    expect(cut).toMatchObject({ streaming: false, reason: "ok", stopReason: "max_tokens" });
    expect(selectContinuable(state)).toBe(cut!.id);

    state = run([continued], state);
    expect(state.turnOpen).toBe(true);
    expect(selectContinuable(state)).toBeNull(); // no second Continue while it runs
    state = feed([f.chunk("is 42."), f.done("ok")], state);
    expect(assistants(state)).toHaveLength(1);
    expect(textOf(assistants(state)[0]!)).toBe("The answer is 42.");
    expect(assistants(state)[0]).toMatchObject({ stopReason: null, streaming: false });
    expect(state.status).toBe("idle");
  });

  it("offers no Continue for a refusal, nor once the person has moved on", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("bad")]);
    state = feed([f.chunk("I"), f.cutShort("refusal")], state);
    expect(assistants(state)[0]).toMatchObject({ stopReason: "refusal" });
    expect(selectContinuable(state)).toBeNull();
    expect(run([continued], state)).toBe(state);

    state = run([sent("long")], state);
    state = feed([f.chunk("cut"), f.cutShort("max_tokens")], state);
    state = run([sent("never mind")], state);
    expect(selectContinuable(state)).toBeNull();
  });

  it("shows a refusal that came before any text as its own bubble", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("bad")]);
    state = feed([f.status({ ai_typing: true }), f.status({ ai_typing: false }), f.cutShort("refusal")], state);
    expect(assistants(state)).toEqual([
      expect.objectContaining({ parts: [], reason: "ok", stopReason: "refusal" }),
    ]);
  });

  it("keeps the cut and refusal marks of a history, and the last cut reply can be continued", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("s1", true))]);
    state = feed(
      [
        f.history([
          { role: "user", text: "bad" },
          { role: "assistant", text: "I will not", stop_reason: "refusal" },
          { role: "user", text: "a story" },
          { role: "assistant", text: "Once upon ", stop_reason: "max_tokens" },
        ]),
      ],
      state,
    );
    const [refused, cut] = assistants(state);
    expect(refused).toMatchObject({ stopReason: "refusal", streaming: false });
    expect(cut).toMatchObject({ stopReason: "max_tokens", streaming: false });
    expect(selectContinuable(state)).toBe(cut!.id);

    state = run([continued], state);
    state = feed([f.chunk("a time."), f.done("ok")], state);
    expect(assistants(state)).toHaveLength(2);
    expect(textOf(assistants(state)[1]!)).toBe("Once upon a time.");
    expect(selectContinuable(state)).toBeNull();
  });
});
