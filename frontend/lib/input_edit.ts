// Edit before approving: what the dialog's input editor offers for a call, and the edited input
// it sends (`tool_approval.input`). The server checks it again (schema, safe paths).

/** A call that names a file (`create_file`, `edit_file`, any tool with a string `path`) is
 * edited as a path and a text; any other as its JSON. */
export type EditForm =
  | { kind: "file"; path: string; content: string | null }
  | { kind: "json"; text: string };

export type EditResult =
  | { ok: true; input: Record<string, unknown> }
  | { ok: false; error: "invalid_json" | "not_an_object" | "empty_path" };

export function editForm(input: Record<string, unknown>): EditForm {
  const { path, content } = input;
  if (typeof path === "string" && (content === undefined || typeof content === "string")) {
    return { kind: "file", path, content: typeof content === "string" ? content : null };
  }
  return { kind: "json", text: JSON.stringify(input, null, 2) };
}

/** The input the form now says, over the call's own (fields the form does not show stay). */
export function editedInput(original: Record<string, unknown>, form: EditForm): EditResult {
  if (form.kind === "file") {
    if (!form.path.trim()) return { ok: false, error: "empty_path" };
    const input = { ...original, path: form.path };
    return { ok: true, input: form.content === null ? input : { ...input, content: form.content } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(form.text);
  } catch {
    return { ok: false, error: "invalid_json" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, error: "not_an_object" };
  }
  return { ok: true, input: parsed as Record<string, unknown> };
}

/** True when the edit changes nothing: the approval then goes without `input`. */
export function sameInput(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

/** The edit a reopened dialog starts from: the one the server refused, if any. */
export function resentEdit(call: {
  input: Record<string, unknown>;
  sentInput?: Record<string, unknown> | null;
}): EditResult | null {
  return call.sentInput && !sameInput(call.sentInput, call.input) ? { ok: true, input: call.sentInput } : null;
}
