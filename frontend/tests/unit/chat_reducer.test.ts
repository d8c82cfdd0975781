import { describe, expect, it } from "vitest";
import { reduce, reduceFrame, type ChatAction } from "@/lib/chat_reducer";
import {
  initialChatState,
  selectMessages,
  selectPendingTool,
  type AssistantChatMessage,
  type ChatState,
} from "@/lib/chat_state";
import type { ServerFrame } from "@/lib/protocol";
import { frameMaker, preview } from "../helpers/frames";

const frame = (f: ServerFrame): ChatAction => ({ type: "frame", frame: f });
const run = (actions: ChatAction[], state: ChatState = initialChatState()) =>
  actions.reduce(reduce, state);
const feed = (frames: ServerFrame[], state: ChatState = initialChatState()) =>
  frames.reduce(reduceFrame, state);
const sent = (text: string): ChatAction => ({ type: "user_sent", text });
const open: ChatAction = { type: "connection", connection: "open" };

function assistant(state: ChatState, index = -1): AssistantChatMessage {
  const message = selectMessages(state).filter((m) => m.role === "assistant").at(index);
  if (message?.role !== "assistant") throw new Error("no assistant message");
  return message;
}
const textOf = (m: AssistantChatMessage) =>
  m.parts.map((p) => (p.type === "text" ? p.text : `[${p.type}]`)).join("");

describe("chat reducer", () => {
  it("accumulates ai_chunk text into one streaming message until completed", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("hi"), frame(f.status({ ai_typing: true }))]);
    expect(state.status).toBe("streaming");
    state = feed([f.chunk("Hel"), f.chunk("lo, "), f.chunk("world")], state);
    expect(textOf(assistant(state))).toBe("Hello, world");
    expect(assistant(state).streaming).toBe(true);
    expect(state.status).toBe("streaming");

    state = feed([f.status({ ai_typing: false }), f.done("ok")], state);
    expect(assistant(state).streaming).toBe(false);
    expect(assistant(state).reason).toBe("ok");
    expect(state.status).toBe("idle");
    expect(selectMessages(state).map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(state.lastSeq).toBe(f.seq);
  });

  it("keeps finished messages and the message list identical while a reply streams", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("one")]);
    state = feed([f.chunk("first"), f.done()], state);
    state = run([sent("two"), frame(f.chunk("a"))], state);
    const before = state;
    state = feed([f.chunk("b")], state);
    expect(state.messages[before.messageIds[0]!]).toBe(before.messages[before.messageIds[0]!]);
    expect(state.messages[before.messageIds[1]!]).toBe(before.messages[before.messageIds[1]!]);
    expect(state.messageIds).toBe(before.messageIds);
    expect(state.messages[before.messageIds[3]!]).not.toBe(before.messages[before.messageIds[3]!]);
  });

  it("runs an approved tool: requested → approved → running → done, chunks accumulated", () => {
    const f = frameMaker();
    const content = "línea 1\nline 2\n";
    let state = run([open, frame(f.session()), sent("make a file")]);
    state = feed(
      [
        f.status({ ai_typing: true }),
        f.chunk("Creating it."),
        f.status({ ai_typing: false }),
        f.toolRequest("toolu_1", { path: "notes/a.txt", content }, preview("notes/a.txt", content)),
      ],
      state,
    );
    expect(state.status).toBe("awaiting_approval");
    expect(selectPendingTool(state)?.id).toBe("toolu_1");
    expect(assistant(state).parts.map((p) => p.type)).toEqual(["text", "tool"]);

    state = run([{ type: "approval_sent", toolUseId: "toolu_1", approved: true }], state);
    expect(state.toolCalls.toolu_1?.state).toBe("approved");
    expect(selectPendingTool(state)).toBeNull();
    expect(state.status).toBe("streaming");

    state = feed(
      [
        f.toolStarted("toolu_1"),
        f.status({ tool_running: true, file_path: "notes/a.txt" }),
        f.toolChunk("toolu_1", "línea 1\n"),
      ],
      state,
    );
    expect(state.status).toBe("tool_running");
    expect(state.filePath).toBe("notes/a.txt");
    expect(state.toolCalls.toolu_1?.state).toBe("running");

    state = feed(
      [
        f.toolChunk("toolu_1", "line 2\n"),
        f.status({ tool_running: false }),
        f.toolFinished("toolu_1", "done"),
        f.status({ ai_typing: true }),
        f.chunk("Done."),
        f.status({ ai_typing: false }),
        f.done(),
      ],
      state,
    );
    const call = state.toolCalls.toolu_1;
    expect(call?.state).toBe("done");
    expect(call?.output).toBe(content);
    expect(call?.receivedBytes).toBe(new TextEncoder().encode(content).length);
    expect(call?.receivedBytes).toBe(call?.preview?.bytes);
    expect(textOf(assistant(state))).toBe("Creating it.[tool]Done.");
    expect(state.status).toBe("idle");
  });

  it("records a denial, runs nothing, and lets the reply continue", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("make a file")]);
    state = feed([f.toolRequest("toolu_2", { path: "x.txt", content: "x" })], state);
    state = run([{ type: "approval_sent", toolUseId: "toolu_2", approved: false }], state);
    expect(state.toolCalls.toolu_2?.state).toBe("denied");
    state = feed([f.chunk("Alright, I will not create it."), f.done()], state);
    expect(state.toolCalls.toolu_2?.state).toBe("denied");
    expect(state.toolCalls.toolu_2?.output).toBe("");
    expect(textOf(assistant(state))).toBe("[tool]Alright, I will not create it.");
    expect(state.status).toBe("idle");
  });

  it("ignores a second decision on the same call", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed([f.toolRequest("t", { path: "a", content: "" })], state);
    state = run(
      [
        { type: "approval_sent", toolUseId: "t", approved: false },
        { type: "approval_sent", toolUseId: "t", approved: true },
      ],
      state,
    );
    expect(state.toolCalls.t?.state).toBe("denied");
  });

  it("shows a model error inside the reply and ends in the error status", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("hello")]);
    state = feed(
      [
        f.status({ ai_typing: true }),
        f.error("Não autorizado. Verifique sua ANTHROPIC_API_KEY.", {
          code: "unauthorized",
          status: 401,
          request_id: "req_1",
        }),
        f.status({ ai_typing: false }),
        f.done("error"),
      ],
      state,
    );
    const parts = assistant(state).parts;
    expect(parts).toEqual([
      { type: "error", code: "unauthorized", message: "Não autorizado. Verifique sua ANTHROPIC_API_KEY." },
    ]);
    expect(state.status).toBe("error");
    expect(state.notices).toEqual([]);
    // The next message clears the error status.
    expect(run([sent("again")], state).status).toBe("streaming");
  });

  it("marks a failed tool and resumes the reply after it", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed([f.toolRequest("t1", { path: "a.txt", content: "abc" })], state);
    state = run([{ type: "approval_sent", toolUseId: "t1", approved: true }], state);
    state = feed(
      [
        f.status({ tool_running: true, file_path: "a.txt" }),
        f.error("Não foi possível gravar o arquivo.", { code: "write_failed", tool_use_id: "t1" }),
        f.status({ tool_running: false }),
        f.chunk("The write failed, sorry."),
        f.done(),
      ],
      state,
    );
    const call = state.toolCalls.t1;
    expect(call?.state).toBe("failed");
    expect(call?.state === "failed" && call.message).toBe("Não foi possível gravar o arquivo.");
    expect(textOf(assistant(state))).toBe("[tool]The write failed, sorry.");
    expect(state.status).toBe("idle");
  });

  it("puts a busy refusal in a notice and tracks the busy flag", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session())]);
    state = feed([f.status({ busy: true }), f.error("Aguarde a resposta atual terminar.", { code: "busy" })], state);
    expect(state.busy).toBe(true);
    expect(state.notices).toMatchObject([{ code: "busy", message: "Aguarde a resposta atual terminar." }]);
    state = feed([f.status({ busy: false })], state);
    expect(state.busy).toBe(false);
    state = run([{ type: "dismiss_notice", id: state.notices[0]!.id }], state);
    expect(state.notices).toEqual([]);
  });

  it("skips frames replayed after a reconnect", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("hi")]);
    const a = f.chunk("A");
    const b = f.chunk("B");
    state = feed([a, b], state);
    // Reconnected with last_seq=2: the server repeats nothing, but a duplicate must not double text.
    state = feed([f.session("s1", true), a, b, f.chunk("C")], state);
    expect(textOf(assistant(state))).toBe("ABC");
  });

  it("rebuilds the conversation from history after a reload, then goes on live", () => {
    const f = frameMaker(7);
    const state = feed([
      f.session("s9", true),
      f.history([
        { role: "user", text: "earlier question" },
        { role: "assistant", text: "earlier answer", stopped: true },
        { role: "user", text: "current question" },
      ]),
      f.status({ ai_typing: true }),
      f.chunk("live"),
    ]);
    expect(selectMessages(state).map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(textOf(assistant(state))).toBe("live");
    expect(assistant(state, 0).reason).toBe("cancelled");
    expect(state.sessionId).toBe("s9");
    expect(state.status).toBe("streaming");
  });

  it("after a history that replaced a resume, applies the frames after it, not only newer ones", () => {
    // We had seen up to seq 40; the server could not resume from there (its frames were lost in
    // a crash or compacted) and answered with the history at seq 12: what follows is new.
    const before = frameMaker(30);
    let state = feed([before.session("s1"), before.chunk("old")]);
    for (let n = 0; n < 9; n += 1) state = feed([before.chunk(".")], state);
    expect(state.lastSeq).toBe(40);
    const f = frameMaker(12);
    state = feed([f.session("s1", true), f.history([{ role: "user", text: "question" }])], state);
    state = feed([f.status({ ai_typing: true }), f.chunk("fresh")], state);
    expect(selectMessages(state).map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(textOf(assistant(state))).toBe("fresh");
  });

  it("keeps a re-sent tool_request from adding a second card", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    const request = f.toolRequest("t1", { path: "a", content: "a" });
    state = feed([request, f.session(), request], state);
    expect(assistant(state).parts).toHaveLength(1);
    expect(state.toolOrder).toEqual(["t1"]);
  });

  it("moves the card named by tool_started/tool_finished, not another approved one", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed([f.toolRequest("t1", { path: "a", content: "a" }), f.toolRequest("t2", { path: "b", content: "b" })], state);
    state = run(
      [
        { type: "approval_sent", toolUseId: "t1", approved: true },
        { type: "approval_sent", toolUseId: "t2", approved: true },
      ],
      state,
    );
    state = feed([f.toolStarted("t1"), f.status({ tool_running: true, file_path: "a" })], state);
    expect([state.toolCalls.t1?.state, state.toolCalls.t2?.state]).toEqual(["running", "approved"]);
    state = feed([f.status({ tool_running: false }), f.toolFinished("t1", "done")], state);
    expect([state.toolCalls.t1?.state, state.toolCalls.t2?.state]).toEqual(["done", "approved"]);
    state = feed([f.toolStarted("t2"), f.status({ tool_running: true, file_path: "b" })], state);
    expect(state.toolCalls.t2?.state).toBe("running");
    state = feed([f.status({ tool_running: false }), f.toolFinished("t2", "failed", "write_failed")], state);
    const t2 = state.toolCalls.t2;
    expect(t2?.state === "failed" && t2.code).toBe("write_failed");
  });

  it("finishes an expired call as failed with its code, and keeps a failure's own message", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed(
      [
        f.toolRequest("t1", { path: "a", content: "a" }),
        f.error("No answer in time.", { code: "approval_timeout", tool_use_id: "t1" }),
        f.toolFinished("t1", "expired", "approval_timeout"),
      ],
      state,
    );
    const call = state.toolCalls.t1;
    expect(call?.state).toBe("failed");
    expect(call?.state === "failed" && [call.code, call.message]).toEqual(["approval_timeout", "No answer in time."]);
  });

  it("redraws past tool-call cards from history with their final state and result", () => {
    const f = frameMaker(7);
    const state = feed([
      f.session("s9", true),
      f.history([
        { role: "user", text: "write two" },
        {
          role: "assistant",
          text: "Writing both.",
          tool_calls: [
            { id: "t1", name: "create_file", summary: "notes/yes.txt", status: "done", decided_by: "tool", result: "Wrote 4 bytes" },
            { id: "t2", name: "create_file", summary: "notes/no.txt", status: "denied", decided_by: "person", result: "denied" },
            { id: "t3", name: "create_file", summary: "notes/late.txt", status: "expired", decided_by: "deadline", result: "" },
          ],
        },
      ]),
    ]);
    expect(assistant(state, 0).parts).toEqual([
      { type: "text", text: "Writing both." },
      { type: "tool", toolUseId: "t1" },
      { type: "tool", toolUseId: "t2" },
      { type: "tool", toolUseId: "t3" },
    ]);
    expect(state.toolCalls.t1).toMatchObject({ state: "done", filePath: "notes/yes.txt", output: "Wrote 4 bytes" });
    expect(state.toolCalls.t2?.state).toBe("denied");
    expect(state.toolCalls.t3).toMatchObject({ state: "failed", code: "expired" });
    expect(state.status).toBe("idle");
  });

  it("fails the calls a stopped reply leaves behind", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed([f.toolRequest("t1", { path: "a", content: "a" }), f.done("cancelled")], state);
    expect(state.toolCalls.t1?.state).toBe("failed");
    expect(assistant(state).reason).toBe("cancelled");
    expect(state.status).toBe("idle");
  });

  it("starts over when the server opened a new conversation instead of resuming", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("old")), sent("hi")]);
    state = feed([f.chunk("half a rep")], state);
    const g = frameMaker();
    state = feed([g.session("new", false), g.chunk("fresh")], state);
    expect(state.sessionId).toBe("new");
    expect(assistant(state, 0).parts).toEqual([{ type: "text", text: "half a rep" }]);
    expect(assistant(state, 0).reason).toBe("error");
    expect(textOf(assistant(state))).toBe("fresh");
    expect(state.lastSeq).toBe(1);
  });
});

describe("chat reducer: switching and stopping", () => {
  it("opens another conversation: nothing on screen until its history, then lives on", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("a")), sent("in a")]);
    state = feed([f.chunk("reply in a"), f.done()], state);
    state = run([{ type: "open_conversation", sessionId: "b" }], state);
    expect(state).toMatchObject({ sessionId: "b", awaitingHistory: true, lastSeq: 0, messageIds: [] });
    expect(state.connection).toBe("open");

    const g = frameMaker(4);
    state = feed([g.session("b", true)], state);
    expect(state.awaitingHistory).toBe(true);
    state = feed([g.history([{ role: "user", text: "in b" }, { role: "assistant", text: "reply in b" }])], state);
    expect(state.awaitingHistory).toBe(false);
    expect(selectMessages(state).map((m) => (m.role === "user" ? m.text : textOf(m)))).toEqual([
      "in b",
      "reply in b",
    ]);
    expect(state.lastSeq).toBe(4);
    // The frames of b after seq 4 apply; a repeat of seq 4 or below does not.
    state = run([sent("more")], state);
    state = feed([g.chunk("new"), { ...g.chunk("dup"), seq: 3 }], state);
    expect(textOf(assistant(state))).toBe("new");
  });

  it("starts a new chat from a clean slate but keeps the socket state and fresh ids", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("a")), sent("hello")]);
    state = feed([f.chunk("hi"), f.done()], state);
    const [idsUsed, before] = [state.nextId, state.messageIds];
    state = run([{ type: "new_chat" }], state);
    expect(state).toEqual({ ...initialChatState(), connection: "open", nextId: idsUsed });
    state = run([sent("again")], state);
    expect(state.messageIds.filter((id) => before.includes(id))).toEqual([]);
  });

  it("stops waiting for history when the server opened a new conversation instead", () => {
    const f = frameMaker();
    let state = run([{ type: "open_conversation", sessionId: "deleted" }, open]);
    state = feed([f.session("fresh", false)], state);
    expect(state).toMatchObject({ sessionId: "fresh", awaitingHistory: false });
  });

  it("marks a reply stopped before any text as stopped, not as nothing", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), sent("go")]);
    state = feed([f.status({ ai_typing: true }), f.status({ ai_typing: false }), f.done("cancelled")], state);
    expect(assistant(state)).toMatchObject({ parts: [], streaming: false, reason: "cancelled" });
    expect(state.status).toBe("idle");
    // An error with nothing said adds no empty bubble (the error part says it).
    const g = frameMaker();
    let other = run([open, frame(g.session()), sent("go")]);
    other = feed([g.done("ok")], other);
    expect(selectMessages(other).map((m) => m.role)).toEqual(["user"]);
  });

  it("starts over with a notice when the open conversation was deleted", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("a")), sent("hi")]);
    state = feed([f.chunk("partial")], state);
    state = run([{ type: "conversation_gone" }], state);
    expect(state).toMatchObject({ sessionId: null, turnOpen: false, messageIds: [], status: "idle" });
    expect(state.notices).toMatchObject([{ code: "conversation_deleted" }]);
  });
});
