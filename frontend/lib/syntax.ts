// Syntax highlighting of a file's lines, by the file's extension, for the draft card, the
// approval preview and the diff. Each line is highlighted on its own (a diff shows lines
// out of their context anyway), with the page's one lowlight instance.
import type { ElementContent, RootContent } from "hast";
import { lowlight } from "./rehype_code_highlight";

// Extensions whose grammar has another name than the extension.
const BY_EXTENSION: Record<string, string> = {
  htm: "xml",
  html: "xml",
  svg: "xml",
  vue: "xml",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  tsx: "typescript",
  mts: "typescript",
  yml: "yaml",
  toml: "ini",
  h: "c",
  hpp: "cpp",
};
const BY_NAME: Record<string, string> = { makefile: "makefile", dockerfile: "dockerfile" };

/** The grammar for a file path, or null for plain text. */
export function languageForPath(path: string | null): string | null {
  if (!path) return null;
  const name = path.split("/").pop()?.toLowerCase() ?? "";
  const byName = BY_NAME[name];
  if (byName && lowlight.registered(byName)) return byName;
  const dot = name.lastIndexOf(".");
  if (dot < 0) return null;
  const extension = name.slice(dot + 1);
  const language = BY_EXTENSION[extension] ?? extension;
  return language !== "plaintext" && lowlight.registered(language) ? language : null;
}

/** One line as hast nodes (plain text when there is no grammar). */
export function highlightLine(line: string, language: string | null): (RootContent | ElementContent)[] {
  if (!language || !line) return [{ type: "text", value: line }];
  try {
    return lowlight.highlight(language, line, { prefix: "hljs-" }).children;
  } catch {
    return [{ type: "text", value: line }];
  }
}
