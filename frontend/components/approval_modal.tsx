"use client";
import { useCallback } from "react";
import type { DecisionOptions } from "@/lib/chat_client";
import { selectPendingTool, type ChatState } from "@/lib/chat_state";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { ApprovalDialog } from "./approval_dialog";

function countPending(state: ChatState): number {
  return state.toolOrder.filter((id) => state.toolCalls[id]?.state === "requested").length;
}

/** Asks about the oldest tool call still waiting; the next one follows once it is decided. */
export function ApprovalModal() {
  const client = useChatClient();
  const call = useChatSelector(selectPendingTool);
  const pending = useChatSelector(countPending);
  const id = call?.id;
  const decide = useCallback(
    (approved: boolean, options?: DecisionOptions) => {
      if (id) client.decide(id, approved, options);
    },
    [client, id],
  );
  if (!call) return null;
  return <ApprovalDialog key={call.id} call={call} queued={pending - 1} onDecide={decide} />;
}
