"use client";
import { memo } from "react";
import type { AssistantPart } from "@/lib/chat_state";
import { errorText } from "@/lib/i18n";
import { assertNever } from "@/lib/protocol";
import { useT } from "@/lib/use_preferences";
import { ErrorAlert } from "./error_alert";
import { Markdown } from "./markdown";
import { ThinkingBlock } from "./thinking_block";
import { ToolOutputView } from "./tool_output_view";

/** One part of a reply: its thinking, text, a tool call, or an error. */
export const AssistantPartView = memo(function AssistantPartView({
  part,
  streaming,
}: {
  part: AssistantPart;
  streaming: boolean;
}) {
  const t = useT();
  switch (part.type) {
    case "text":
      return <Markdown text={part.text} streaming={streaming} />;
    case "thinking":
      return <ThinkingBlock text={part.text} streaming={streaming} />;
    case "tool":
      return <ToolOutputView toolUseId={part.toolUseId} />;
    case "error":
      return <ErrorAlert message={errorText(t, part.message, part.code)} code={part.code} />;
    default:
      return assertNever(part);
  }
});
