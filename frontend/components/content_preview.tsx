"use client";
import { CodeView } from "./code_view";

/** What a tool will write (or its input), numbered and highlighted by the file's type. */
export function ContentPreview({ label, text, path }: { label: string; text: string; path: string | null }) {
  return (
    <figure className="space-y-1.5">
      <figcaption className="text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {label}
      </figcaption>
      <CodeView text={text} path={path} label={label} testId="approval-preview" className="max-h-40" />
    </figure>
  );
}
