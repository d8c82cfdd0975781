"use client";
import { memo, useMemo } from "react";
import { collectDefinitions, definitionsFor, splitBlocks } from "@/lib/markdown_blocks";
import { useProgressiveText } from "@/lib/use_progressive_text";
import { MarkdownBlock } from "./markdown_block";

/**
 * The model's Markdown, rendered block by block: while it streams, the finished blocks are
 * memoized and only the last one is parsed again. Link and footnote definitions are resolved
 * across blocks (lib/markdown_blocks.ts); the footnotes are listed once, at the end.
 * While it streams, the text on screen catches up in bounded steps (lib/use_progressive_text.ts),
 * so that no task parses more than a few blocks.
 */
export const Markdown = memo(function Markdown({
  text,
  streaming = false,
}: {
  text: string;
  streaming?: boolean;
}) {
  const shown = useProgressiveText(text, streaming);
  const blocks = useMemo(() => splitBlocks(shown), [shown]);
  const definitions = useMemo(() => collectDefinitions(blocks), [blocks]);
  // A string, so the memoized blocks see a new value only when the numbering changes.
  const order = definitions.order.join("\n");
  return (
    // While streaming, a caret blinks after the last block (globals.css, `.md[data-streaming]`).
    <div className="md" data-testid="markdown" data-streaming={streaming || undefined}>
      {blocks.map((block, index) => (
        <MarkdownBlock
          key={index}
          text={block}
          definitions={definitionsFor(block, definitions)}
          footnoteOrder={order}
        />
      ))}
      {definitions.order.length > 0 && (
        <section data-footnotes="" data-testid="footnotes" className="footnotes">
          <ol>
            {definitions.order.map((label) => (
              <li key={label} id={`user-content-fn-${label}`}>
                <MarkdownBlock text={definitions.footnotes.get(label)?.text ?? ""} definitions={definitions.links} />
                <a href={`#user-content-fnref-${label}`} data-footnote-backref="" aria-label="↩">
                  ↩
                </a>
              </li>
            ))}
          </ol>
        </section>
      )}
    </div>
  );
});
