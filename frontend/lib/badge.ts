// Which single badge describes the chat right now, most urgent first.
import type { ChatState } from "./chat_state";

export type BadgeKind =
  | "connecting"
  | "reconnecting"
  | "closed"
  | "awaiting_approval"
  | "tool_running"
  | "streaming"
  | "busy"
  | "error"
  | "idle";

export function badgeKind(state: ChatState): BadgeKind {
  if (state.connection === "closed") return "closed";
  if (state.connection === "reconnecting" || state.serverReconnecting) return "reconnecting";
  if (state.connection === "connecting") return "connecting";
  if (state.status === "idle" && state.busy) return "busy";
  return state.status;
}
