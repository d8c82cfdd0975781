// Helpers over the generated protocol types (lib/ws_events.ts is generated, never edited).
import type { ClientFrame, ServerFrame } from "./ws_events";

export type { ClientFrame, DiffHunk, FileDiff, FilePreview, ServerFrame, ToolAnnotations } from "./ws_events";

export type ServerEvent = ServerFrame["event"];
export type FrameOf<E extends ServerEvent> = Extract<ServerFrame, { event: E }>;

// A Record over the union: an event added to the protocol fails to compile until listed here.
const KNOWN_EVENTS: Record<ServerEvent, true> = {
  session_created: true,
  status_update: true,
  ai_chunk: true,
  ai_thinking: true,
  conversation_settings: true,
  assistant_message_completed: true,
  tool_request: true,
  tool_input_delta: true,
  tool_chunk: true,
  tool_started: true,
  tool_finished: true,
  tool_decided: true,
  error: true,
  history: true,
  conversation_titled: true,
};
const SERVER_EVENTS: ReadonlySet<string> = new Set(Object.keys(KNOWN_EVENTS));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parse one text frame from the server. The server validates what it sends against the same
 * schema, so the check here is the envelope: a known event with an object `data`. Anything
 * else (a future event, a broken frame) is ignored by the caller.
 */
export function parseServerFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.event !== "string" || !isRecord(value.data)) return null;
  if (!SERVER_EVENTS.has(value.event)) return null;
  const seq = typeof value.seq === "number" ? value.seq : 0;
  return { ...value, seq } as ServerFrame;
}

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
