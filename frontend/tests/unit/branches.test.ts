import { describe, expect, it } from "vitest";
import { reduce, reduceFrame, type ChatAction } from "@/lib/chat_reducer";
import { initialChatState, selectMessages, selectRetryable, type ChatState } from "@/lib/chat_state";
import type { ServerFrame } from "@/lib/protocol";
import { frameMaker } from "../helpers/frames";

const frame = (f: ServerFrame): ChatAction => ({ type: "frame", frame: f });
const run = (actions: ChatAction[], state: ChatState = initialChatState()) => actions.reduce(reduce, state);
const feed = (frames: ServerFrame[], state: ChatState) => frames.reduce(reduceFrame, state);
const open: ChatAction = { type: "connection", connection: "open" };
const branched: ChatAction = { type: "branch_sent" };

describe("branches", () => {
  it("learns the ids of a live message and its reply from the completion", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), { type: "user_sent", text: "q" }]);
    const done: ServerFrame = {
      event: "assistant_message_completed",
      data: { reason: "ok", ids: { message_id: 4, reply_id: 5, branch: { index: 1, count: 2, siblings: [3, 5] } } },
      seq: f.seq + 2,
    };
    state = feed([f.chunk("a"), done], state);
    const [asked, reply] = selectMessages(state);
    expect(asked).toMatchObject({ role: "user", serverId: 4 });
    expect(reply).toMatchObject({ role: "assistant", serverId: 5, branch: { index: 1, count: 2 } });
    expect(selectRetryable(state)).toBe(reply!.id);
  });

  it("takes ids and branch places from the history a retry, an edit or a switch sends", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), branched]);
    expect(state.turnOpen).toBe(true);
    const history: ServerFrame = {
      event: "history",
      data: {
        messages: [
          { role: "user", text: "TWO", stopped: false, id: 7, branch: { index: 1, count: 2, siblings: [2, 7] } },
        ],
      },
      seq: 9,
    };
    state = feed([history], state);
    expect(state.branching).toBe(false);
    expect(state.turnOpen).toBe(true); // the reply to the edited message follows
    expect(selectMessages(state)[0]).toMatchObject({ serverId: 7, branch: { index: 1, siblings: [2, 7] } });
  });

  it("closes the turn when a retry or an edit is refused before it starts", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session()), branched]);
    state = feed([f.error("Nothing to retry", { code: "nothing_to_retry" })], state);
    expect(state.turnOpen).toBe(false);
    expect(state.branching).toBe(false);
    expect(state.notices.map((n) => n.code)).toEqual(["nothing_to_retry"]);
    expect(selectMessages(state)).toEqual([]);
  });
});

describe("retry", () => {
  it("is offered on the person's last message when its reply never came (after a reload)", () => {
    const f = frameMaker();
    let state = run([open, frame(f.session("s1", true))]);
    state = feed([f.history([{ role: "user", text: "q" }])], state);
    expect(selectRetryable(state)).toBe(selectMessages(state)[0]!.id);
    state = run([{ type: "user_sent", text: "again" }], state);
    expect(selectRetryable(state)).toBeNull(); // not while a reply runs
  });
});
