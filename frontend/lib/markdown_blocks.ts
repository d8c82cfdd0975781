// Split Markdown into top-level blocks at blank lines outside code fences. While a reply
// streams only its last block changes, so the blocks before it are rendered once and kept.
// A blank line followed by an indented line (a list item's second paragraph) does not split.
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export function splitBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let blanks = 0;
  let fence: string | null = null;
  for (const line of text.split("\n")) {
    const blank = line.trim() === "";
    if (fence === null && blank) {
      if (current.length > 0) blanks += 1;
      continue;
    }
    if (fence === null && blanks > 0) {
      if (/^[ \t]/.test(line)) {
        current.push(...Array<string>(blanks).fill(""));
      } else {
        blocks.push(current.join("\n"));
        current = [];
      }
      blanks = 0;
    }
    const marker = FENCE.exec(line)?.[1];
    if (marker) {
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
        fence = null;
      }
    }
    current.push(line);
  }
  if (current.length > 0) blocks.push(current.join("\n"));
  return blocks;
}

// Reference-style links (`[x][r]` + `[r]: url`) and footnotes (`[^1]` + `[^1]: note`) refer
// across blocks, but each block is parsed alone. So the definitions are gathered from the
// whole text and appended to each block that needs them (a definition renders nothing), and
// footnotes are numbered once for the whole message, in the order they are first referenced.
const LINK_DEFINITION = /^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*\S/;
const FOOTNOTE_DEFINITION = /^ {0,3}\[\^([^\]\s]+)\]:[ \t]*(.*)$/;
const FOOTNOTE_REFERENCE = /\[\^([^\]\s]+)\](?!:)/g;

export interface Footnote {
  label: string;
  /** The note's Markdown (continuation lines included, unindented). */
  text: string;
}

export interface Definitions {
  /** Every link reference definition line, to append to every block. */
  links: string;
  /** Footnote definitions by label (lower case, as references match them). */
  footnotes: Map<string, Footnote>;
  /** Labels in the order they are first referenced: their numbers are their places + 1. */
  order: string[];
}

export function collectDefinitions(blocks: string[]): Definitions {
  const links: string[] = [];
  const footnotes = new Map<string, Footnote>();
  const order: string[] = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    for (let index = 0; index < lines.length; index += 1) {
      const line = lines[index] ?? "";
      if (LINK_DEFINITION.test(line)) links.push(line.trim());
      const note = FOOTNOTE_DEFINITION.exec(line);
      if (!note?.[1]) continue;
      const body = [note[2] ?? ""];
      while (index + 1 < lines.length && /^( {2,}|\t)\S/.test(lines[index + 1] ?? "")) {
        index += 1;
        body.push((lines[index] ?? "").trim());
      }
      const label = note[1].toLowerCase();
      if (!footnotes.has(label)) footnotes.set(label, { label, text: body.join("\n") });
    }
    for (const label of referencedFootnotes(block)) {
      if (!order.includes(label)) order.push(label);
    }
  }
  return { links: links.join("\n"), footnotes, order: order.filter((label) => footnotes.has(label)) };
}

function referencedFootnotes(block: string): string[] {
  return Array.from(block.matchAll(FOOTNOTE_REFERENCE), (match) => (match[1] ?? "").toLowerCase());
}

/** What to append to `block` so that it resolves its references: "" when it has none. */
export function definitionsFor(block: string, definitions: Definitions): string {
  const notes = referencedFootnotes(block)
    .map((label) => definitions.footnotes.get(label))
    .filter((note): note is Footnote => note !== undefined)
    .map((note) => `[^${note.label}]: ${note.text.split("\n").join("\n    ")}`);
  const hasLinkReference = definitions.links !== "" && block.includes("]");
  return [hasLinkReference ? definitions.links : "", ...notes].filter(Boolean).join("\n");
}
