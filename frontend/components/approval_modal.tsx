"use client";
import { useCallback, useState } from "react";
import type { DecisionOptions } from "@/lib/chat_client";
import { pendingToolsSelector } from "@/lib/chat_state";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { ApprovalDialog } from "./approval_dialog";
import { ApprovalQueue } from "./approval_queue";

/**
 * Asks about the calls still waiting: the oldest one (or the one the person picked from the
 * list) in full; when several wait, the list of them all, each with its own decision, and
 * approve all / deny all.
 */
export function ApprovalModal() {
  const client = useChatClient();
  const selectPending = useState(pendingToolsSelector)[0];
  const calls = useChatSelector(selectPending);
  const [picked, setPicked] = useState<string | null>(null);
  const call = calls.find((waiting) => waiting.id === picked) ?? calls[0] ?? null;
  const id = call?.id;
  const decide = useCallback(
    (approved: boolean, options?: DecisionOptions) => {
      if (id) client.decide(id, approved, options);
    },
    [client, id],
  );
  const decideOne = useCallback(
    (toolUseId: string, approved: boolean) => client.decide(toolUseId, approved),
    [client],
  );
  const decideAll = useCallback((approved: boolean) => client.decideAll(approved), [client]);
  if (!call) return null;
  const queue =
    calls.length > 1 ? (
      <ApprovalQueue
        calls={calls}
        shownId={call.id}
        onShow={setPicked}
        onDecide={decideOne}
        onDecideAll={decideAll}
      />
    ) : null;
  return (
    <ApprovalDialog
      key={call.id}
      call={call}
      queued={calls.length - 1}
      queue={queue}
      onDecide={decide}
    />
  );
}
