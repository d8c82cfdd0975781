"use client";
import { memo, useMemo, type ComponentProps } from "react";
import ReactMarkdown, { type Components, type ExtraProps, type Options } from "react-markdown";
import remarkGfm from "remark-gfm";
import { rehypeCodeHighlight } from "@/lib/rehype_code_highlight";
import { CodeBlock } from "./code_block";

const REMARK_PLUGINS: Options["remarkPlugins"] = [remarkGfm];
const REHYPE_PLUGINS: Options["rehypePlugins"] = [rehypeCodeHighlight];
const FOOTNOTE_TARGET = "#user-content-fn-";

type AnchorProps = ComponentProps<"a"> & ExtraProps;

/** The components of one block; `order` numbers footnote references across the message. */
function components(order: string[]): Components {
  return {
    a: ({ href, title, children, ...rest }: AnchorProps) => {
      // A footnote reference: numbered by its place in the whole message, not in this block.
      if ("data-footnote-ref" in rest && href?.startsWith(FOOTNOTE_TARGET)) {
        const label = decodeURIComponent(href.slice(FOOTNOTE_TARGET.length)).toLowerCase();
        const number = order.indexOf(label) + 1;
        return (
          <a href={href} id={rest.id} data-footnote-ref="">
            {number > 0 ? number : children}
          </a>
        );
      }
      // A link whose URL was neutralised (`javascript:`, `data:`…) is plain text, not an
      // empty link that opens a new tab.
      if (!href) return <span data-testid="neutralised-link">{children}</span>;
      return (
        <a href={href} title={title} target="_blank" rel="noopener noreferrer">
          {children}
        </a>
      );
    },
    // No remote images from model text (they could track the reader): show a link instead.
    img: ({ src, alt }) =>
      typeof src === "string" && src ? (
        <a href={src} target="_blank" rel="noopener noreferrer">
          {alt || src}
        </a>
      ) : (
        <span>{alt}</span>
      ),
    pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
    // Each block would list its own footnotes: the message lists them once (markdown.tsx).
    section: (props: ComponentProps<"section"> & ExtraProps) =>
      "data-footnotes" in props ? null : (
        <section className={props.className} id={props.id}>
          {props.children}
        </section>
      ),
  };
}

export const MarkdownBlock = memo(function MarkdownBlock({
  text,
  definitions = "",
  footnoteOrder = "",
}: {
  text: string;
  /** Link and footnote definitions from elsewhere in the message that this block refers to. */
  definitions?: string;
  /** The message's footnote labels, one a line, in reference order. */
  footnoteOrder?: string;
}) {
  const rendered = useMemo(() => components(footnoteOrder ? footnoteOrder.split("\n") : []), [footnoteOrder]);
  return (
    <ReactMarkdown
      remarkPlugins={REMARK_PLUGINS}
      rehypePlugins={REHYPE_PLUGINS}
      components={rendered}
      // Raw HTML in the model's text is shown as text (react-markdown turns `raw` nodes into
      // text unless a plugin like rehype-raw parses them; we use none). Tested in messages.test.
      skipHtml={false}
    >
      {definitions ? `${text}\n\n${definitions}` : text}
    </ReactMarkdown>
  );
});
