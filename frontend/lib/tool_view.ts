// How each tool-call state looks. A Record over the union: a new state fails to compile here.
import type { ToolCallState } from "./chat_state";
import type { MessageKey } from "./i18n";

export interface ToolStateView {
  label: MessageKey;
  /** Classes of the state chip. */
  chip: string;
  /** Show the output panel and progress. */
  showsOutput: boolean;
  /** A note under the header, if any. */
  note: MessageKey | null;
}

export const TOOL_STATE_VIEW: Record<ToolCallState, ToolStateView> = {
  drafting: {
    label: "tool.state.drafting",
    chip: "bg-violet-100 text-violet-800 dark:bg-violet-900/60 dark:text-violet-200",
    showsOutput: false,
    note: null,
  },
  requested: {
    label: "tool.state.requested",
    chip: "bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200",
    showsOutput: false,
    note: "tool.waiting",
  },
  approved: {
    label: "tool.state.approved",
    chip: "bg-indigo-100 text-indigo-700 dark:bg-indigo-900/60 dark:text-indigo-200",
    showsOutput: true,
    note: null,
  },
  running: {
    label: "tool.state.running",
    chip: "bg-sky-100 text-sky-700 dark:bg-sky-900/60 dark:text-sky-200",
    showsOutput: true,
    note: null,
  },
  done: {
    label: "tool.state.done",
    chip: "bg-emerald-100 text-emerald-700 dark:bg-emerald-900/60 dark:text-emerald-200",
    showsOutput: true,
    note: null,
  },
  denied: {
    label: "tool.state.denied",
    chip: "bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
    showsOutput: false,
    note: "tool.deniedNote",
  },
  failed: {
    label: "tool.state.failed",
    chip: "bg-rose-100 text-rose-700 dark:bg-rose-900/60 dark:text-rose-200",
    showsOutput: true,
    note: null,
  },
};
