// The models a conversation may pick (GET /api/models): the API's list through the server, or
// only the configured default, flagged, when the list is unavailable.
import type { components } from "./api_types";
import { ApiError, type HttpApiOptions } from "./conversations_api";

/** `default` is ANTHROPIC_MODEL, a new conversation's model; `fallback`: the list was
 * unavailable, so only the default is offered. From the backend's OpenAPI document. */
export type ModelEntry = components["schemas"]["ModelEntry"];
export type ModelChoices = components["schemas"]["ModelsAnswer"];

export interface ModelsApi {
  list(): Promise<ModelChoices>;
}

function isEntry(value: unknown): value is ModelEntry {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && typeof v.display_name === "string";
}

function isChoices(value: unknown): value is ModelChoices {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return Array.isArray(v.models) && typeof v.default === "string" && typeof v.fallback === "boolean";
}

export function httpModelsApi(options: HttpApiOptions): ModelsApi {
  return {
    async list() {
      const headers: Record<string, string> = { accept: "application/json" };
      const token = options.token();
      if (token) headers.authorization = `Bearer ${token}`;
      const doFetch = options.fetch ?? fetch;
      const response = await doFetch(`${options.base()}/api/models`, { headers, cache: "no-store" });
      if (!response.ok) throw new ApiError(response.status, `models failed: ${response.status}`);
      const body: unknown = await response.json();
      if (!isChoices(body)) throw new ApiError(response.status, "models: unexpected answer");
      return { ...body, models: body.models.filter(isEntry) };
    },
  };
}

/** What the picker lists: the models, with the conversation's own and the default first if missing. */
export function pickerOptions(choices: ModelChoices | null, current: string | null): ModelEntry[] {
  const models = choices?.models ?? [];
  const listed = new Set(models.map((m) => m.id));
  const extra = [choices?.default, current].filter(
    (id, index, all): id is string => !!id && !listed.has(id) && all.indexOf(id) === index,
  );
  return [...extra.map((id) => ({ id, display_name: id })), ...models];
}
