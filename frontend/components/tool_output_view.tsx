"use client";
import { memo, useLayoutEffect, useRef } from "react";
import type { ToolCall } from "@/lib/chat_state";
import { useChatSelector } from "@/lib/use_chat";
import { useLocale, useT } from "@/lib/use_preferences";
import { TOOL_STATE_VIEW } from "@/lib/tool_view";
import { ErrorAlert } from "./error_alert";
import { FileChangeActions } from "./file_change_actions";
import { FileIcon } from "./icons";
import { CodeView } from "./code_view";
import { RuleDecision } from "./rule_decision";
import { ToolProgress } from "./tool_progress";

/** A tool call inside a reply: its state, and the chunks it writes as they arrive. */
export const ToolOutputView = memo(function ToolOutputView({ toolUseId }: { toolUseId: string }) {
  const t = useT();
  const locale = useLocale();
  const call = useChatSelector((s) => s.toolCalls[toolUseId]);
  const outputRef = useRef<HTMLPreElement>(null);
  const outputLength = call?.output.length ?? 0;

  useLayoutEffect(() => {
    const el = outputRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [outputLength]);

  if (!call) return null;
  const view = TOOL_STATE_VIEW[call.state];
  const path = call.filePath ?? call.preview?.path ?? null;

  return (
    <section
      data-testid="tool-output-view"
      data-state={call.state}
      data-tool-id={call.id}
      aria-label={`${call.name}${path ? ` ${path}` : ""}`}
      // Focus lands here after the approval dialog closes (approval_dialog.tsx).
      tabIndex={-1}
      className="overflow-hidden rounded-xl outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900"
    >
      <header className="flex items-center gap-2.5 border-b border-zinc-100 px-4 py-2.5 dark:border-zinc-800">
        <FileIcon className="shrink-0 text-base text-zinc-400" />
        <div className="min-w-0 flex-1 truncate text-sm">
          <span className="font-mono font-medium">{call.name}</span>
          {path && (
            <span className="ml-2 font-mono text-zinc-500 dark:text-zinc-400" data-testid="tool-path">
              {path}
            </span>
          )}
        </div>
        <span
          data-testid="tool-state"
          className={`shrink-0 rounded-full px-2 py-0.5 text-[11px] font-semibold tracking-wide uppercase ${view.chip}`}
        >
          {t(view.label)}
        </span>
      </header>
      {call.rule && <RuleDecision rule={call.rule} />}
      {view.note && !call.rule && (
        <p className="px-4 py-3 text-sm text-zinc-600 dark:text-zinc-400">{t(view.note)}</p>
      )}
      {call.state === "failed" && (
        <div className="px-4 pt-3">
          <ErrorAlert
            message={call.message ?? t(call.code === "invalid_input" ? "tool.invalidInput" : "tool.interrupted")}
            code={call.code}
          />
        </div>
      )}
      {call.state === "drafting" && <DraftView call={call} />}
      {view.showsOutput && (
        <div className="space-y-2 px-4 py-3">
          <ToolProgress received={call.receivedBytes} total={call.preview?.bytes ?? null} locale={locale} />
          <pre
            ref={outputRef}
            tabIndex={0}
            aria-label={t("tool.output")}
            data-testid="tool-output"
            className="max-h-60 overflow-auto rounded-lg bg-zinc-950 p-3 font-mono text-[12.5px] leading-5 whitespace-pre-wrap break-words text-zinc-100 dark:bg-black/60"
          >
            {call.output || <span className="text-zinc-500">{t("tool.noOutput")}</span>}
          </pre>
        </div>
      )}
      {call.state === "done" && <FileChangeActions toolUseId={call.id} />}
    </section>
  );
});

/** A call Claude is still writing: the file's content as it grows (or the input so far). */
function DraftView({ call }: { call: Extract<ToolCall, { state: "drafting" }> }) {
  const t = useT();
  const content = call.input.content;
  const text = typeof content === "string" ? content : JSON.stringify(call.input, null, 2);
  return (
    <div className="space-y-2 px-4 py-3" data-testid="tool-draft">
      <CodeView
        text={text}
        path={typeof content === "string" ? call.filePath : "input.json"}
        label={t("tool.draft")}
        testId="tool-draft-content"
      />
      {call.truncated && <p className="text-xs text-zinc-500">{t("tool.draftTruncated")}</p>}
    </div>
  );
}
