"use client";
import { memo, useMemo } from "react";
import { splitBlocks } from "@/lib/markdown_blocks";
import { MarkdownBlock } from "./markdown_block";

/**
 * The model's Markdown, rendered block by block: while it streams, the finished blocks are
 * memoized and only the last one is parsed again.
 */
export const Markdown = memo(function Markdown({
  text,
  streaming = false,
}: {
  text: string;
  streaming?: boolean;
}) {
  const blocks = useMemo(() => splitBlocks(text), [text]);
  return (
    // While streaming, a caret blinks after the last block (globals.css, `.md[data-streaming]`).
    <div className="md" data-testid="markdown" data-streaming={streaming || undefined}>
      {blocks.map((block, index) => (
        <MarkdownBlock key={index} text={block} />
      ))}
    </div>
  );
});
