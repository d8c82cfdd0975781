"use client";
import { memo, type ReactNode } from "react";
import type { ElementContent, RootContent } from "hast";
import { highlightLine } from "@/lib/syntax";

function render(nodes: (RootContent | ElementContent)[]): ReactNode[] {
  return nodes.map((node, index) => {
    if (node.type === "text") return node.value;
    if (node.type !== "element") return null;
    const classes = node.properties.className;
    const className = Array.isArray(classes) ? classes.join(" ") : undefined;
    return (
      <span key={index} className={className}>
        {render(node.children)}
      </span>
    );
  });
}

/** One line of code, syntax-highlighted (the hljs classes of globals.css). */
export const HighlightedLine = memo(function HighlightedLine({
  text,
  language,
}: {
  text: string;
  language: string | null;
}) {
  return <>{text ? render(highlightLine(text, language)) : " "}</>;
});
