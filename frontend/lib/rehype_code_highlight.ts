// A rehype plugin: syntax-highlight fenced code that names its language (```ts). Like
// rehype-highlight, but with one lowlight instance for the page: react-markdown builds its
// processor on every render, and rehype-highlight registers all its grammars each time it is
// attached, which made every streamed frame pay for ~37 grammar registrations.
import type { Element, ElementContent, Root, RootContent } from "hast";
import { common, createLowlight } from "lowlight";

/** The page's one lowlight, with the common grammars (also used by lib/syntax.ts). */
export const lowlight = createLowlight(common);

function languageOf(code: Element): string | null {
  const classes = code.properties.className;
  if (!Array.isArray(classes)) return null;
  for (const name of classes) {
    if (typeof name === "string" && name.startsWith("language-")) return name.slice(9);
  }
  return null;
}

function textOf(node: Element): string {
  let text = "";
  for (const child of node.children) {
    if (child.type === "text") text += child.value;
    else if (child.type === "element") text += textOf(child);
  }
  return text;
}

function highlight(code: Element): void {
  const language = languageOf(code);
  if (!language || !lowlight.registered(language)) return;
  const result = lowlight.highlight(language, textOf(code), { prefix: "hljs-" });
  code.children = result.children as ElementContent[];
  const classes = Array.isArray(code.properties.className) ? code.properties.className : [];
  code.properties.className = ["hljs", ...classes];
}

function walk(node: Root | RootContent): void {
  if (node.type !== "root" && node.type !== "element") return;
  if (node.type === "element" && node.tagName === "pre") {
    for (const child of node.children) {
      if (child.type === "element" && child.tagName === "code") highlight(child);
    }
    return;
  }
  node.children.forEach(walk);
}

export function rehypeCodeHighlight() {
  return (tree: Root) => walk(tree);
}
