import { describe, expect, it } from "vitest";
import { reduce, reduceFrame, type ChatAction } from "@/lib/chat_reducer";
import {
  initialChatState,
  selectMessages,
  type ChatState,
} from "@/lib/chat_state";
import type { ServerFrame } from "@/lib/protocol";
import { formatCost, totalUsage } from "@/lib/usage";
import type { MessageUsage } from "@/lib/ws_events";
import { frameMaker } from "../helpers/frames";

const usage = (input: number, cost: number | null): MessageUsage => ({
  input_tokens: input,
  output_tokens: 10,
  cache_read_input_tokens: 100,
  cache_creation_input_tokens: 0,
  ...(cost === null ? {} : { cost_usd: cost }),
});

function replied(
  state: ChatState,
  seq: () => number,
  spent: MessageUsage,
): ChatState {
  const actions: ChatAction[] = [
    { type: "user_sent", text: "hi" },
    {
      type: "frame",
      frame: { event: "ai_chunk", data: { text: "ok" }, seq: seq() },
    },
  ];
  const done: ServerFrame = {
    event: "assistant_message_completed",
    data: { reason: "ok", usage: spent },
    seq: seq(),
  };
  return reduceFrame(actions.reduce(reduce, state), done);
}

describe("usage", () => {
  it("keeps each reply's usage and sums the conversation's, cost unknown once one is", () => {
    const f = frameMaker();
    let n = 0;
    const seq = () => ++n;
    let state = [
      { type: "connection", connection: "open" } as ChatAction,
      { type: "frame", frame: f.session() } as ChatAction,
    ].reduce(reduce, initialChatState());
    state = replied(state, seq, usage(1000, 0.01));
    state = replied(state, seq, usage(500, 0.0025));
    const total = totalUsage(selectMessages(state));
    expect(total).toMatchObject({
      input_tokens: 1500,
      output_tokens: 20,
      cache_read_input_tokens: 200,
    });
    expect(total?.cost_usd).toBeCloseTo(0.0125, 10);

    state = replied(state, seq, usage(1, null));
    expect(totalUsage(selectMessages(state))?.cost_usd).toBeNull();
    expect(formatCost(null, "en")).toBeNull();
    expect(formatCost(0.0261, "en")).toBe("$0.0261");
  });

  it("shows a person's attachments from the history with their server URL", () => {
    const f = frameMaker();
    const history: ServerFrame = {
      event: "history",
      data: {
        messages: [
          {
            role: "user",
            text: "",
            stopped: false,
            attachments: [
              {
                name: "a.png",
                media_type: "image/png",
                bytes: 3,
                url: "/api/conversations/c/messages/0/attachments/0",
              },
            ],
          },
          {
            role: "assistant",
            text: "ok",
            stopped: false,
            usage: usage(7, 0.5),
          },
        ],
      },
      seq: 4,
    };
    const state = reduceFrame(
      reduceFrame(initialChatState(), f.session()),
      history,
    );
    const [person, reply] = selectMessages(state);
    expect(person?.role === "user" && person.attachments).toEqual([
      {
        name: "a.png",
        mediaType: "image/png",
        bytes: 3,
        url: "/api/conversations/c/messages/0/attachments/0",
      },
    ]);
    expect(reply?.role === "assistant" && reply.usage?.input_tokens).toBe(7);
  });
});
