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
