// Server frames for tests, numbered like the server numbers them.
import type { Locale } from "@/lib/i18n";
import type { FilePreview, ServerFrame } from "@/lib/protocol";
import type {
  ErrorDetail,
  HistoryToolCall,
  StatusUpdateData,
  ToolFinishedData,
  ToolRequestData,
} from "@/lib/ws_events";

export function frameMaker(startSeq = 0) {
  let seq = startSeq;
  const next = () => ++seq;
  return {
    get seq() {
      return seq;
    },
    session: (id = "s1", resumed = false, locale: Locale | null = null): ServerFrame => ({
      event: "session_created",
      data: locale ? { session_id: id, resumed, locale } : { session_id: id, resumed },
      seq,
    }),
    status: (data: StatusUpdateData): ServerFrame => ({ event: "status_update", data, seq: next() }),
    chunk: (text: string): ServerFrame => ({ event: "ai_chunk", data: { text }, seq: next() }),
    thinking: (text: string): ServerFrame => ({ event: "ai_thinking", data: { text }, seq: next() }),
    settings: (model: string, thinking = false): ServerFrame => ({
      event: "conversation_settings",
      data: { model, thinking },
      seq: next(),
    }),
    done: (reason: "ok" | "error" | "cancelled" = "ok"): ServerFrame => ({
      event: "assistant_message_completed",
      data: { reason },
      seq: next(),
    }),
    cutShort: (stop_reason: "max_tokens" | "refusal"): ServerFrame => ({
      event: "assistant_message_completed",
      data: { reason: "ok", stop_reason },
      seq: next(),
    }),
    toolRequest: (
      id: string,
      input: Record<string, unknown>,
      preview: FilePreview | null = null,
      extra: Partial<ToolRequestData> = {},
    ): ServerFrame => ({
      event: "tool_request",
      data: { id, name: "create_file", input, server: "workspace", preview, ...extra },
      seq: next(),
    }),
    toolInputDelta: (
      id: string,
      partial: Record<string, unknown>,
      appended: string[] = [],
      truncated = false,
    ): ServerFrame => ({
      event: "tool_input_delta",
      data: { tool_use_id: id, name: "create_file", partial, appended, truncated },
      seq: next(),
    }),
    toolChunk: (id: string, chunk: string): ServerFrame => ({
      event: "tool_chunk",
      data: { chunk, tool_use_id: id },
      seq: next(),
    }),
    toolStarted: (id: string, name = "create_file"): ServerFrame => ({
      event: "tool_started",
      data: { tool_use_id: id, name },
      seq: next(),
    }),
    toolFinished: (
      id: string,
      status: ToolFinishedData["status"] = "done",
      code: string | null = null,
    ): ServerFrame => ({
      event: "tool_finished",
      data: { tool_use_id: id, status, code },
      seq: next(),
    }),
    error: (message: string, detail: ErrorDetail | null = null): ServerFrame => ({
      event: "error",
      data: { message, detail },
      seq: next(),
    }),
    history: (
      messages: {
        role: "user" | "assistant";
        text: string;
        stopped?: boolean;
        stop_reason?: "max_tokens" | "refusal";
        tool_calls?: HistoryToolCall[];
      }[],
    ): ServerFrame => ({
      event: "history",
      data: { messages: messages.map((m) => ({ stopped: false, ...m })) },
      seq,
    }),
  };
}

export function preview(path: string, content: string, extra: Partial<FilePreview> = {}): FilePreview {
  return {
    path,
    bytes: new TextEncoder().encode(content).length,
    overwrite: false,
    valid_path: true,
    ...extra,
  };
}
