// The file-versions HTTP API (/api/files, /api/conversations/{id}/undo …): the Files panel and
// the tool cards' undo reach the backend through this interface.
import type { components } from "./api_types";
import { apiBase, ApiError, pageToken } from "./conversations_api";
import { socketBase } from "./ws_url";

// The shapes come from the backend's OpenAPI document (lib/api_types.ts, `make protocol`).
type Schemas = components["schemas"];

/** `kept` false: larger than VERSION_MAX_BYTES, so only its hash is known. */
export type FileState = Schemas["FileStateOut"];
export type FileVersion = Schemas["FileVersionOut"];
export type VersionSource = FileVersion["source"];
export type ListedFile = Schemas["ListedFileOut"];
export type FileHistory = Schemas["FileHistoryOut"];
export type Conflict = Schemas["ConflictOut"];

/** A refusal from the server: nothing on disk changed. */
export class VersionRefusal extends Error {
  readonly code: string;
  readonly conflicts: Conflict[];
  constructor(code: string, message: string, conflicts: Conflict[]) {
    super(message);
    this.name = "VersionRefusal";
    this.code = code;
    this.conflicts = conflicts;
  }
}

export type Side = "before" | "after";

export interface FilesApi {
  list(): Promise<{ files: ListedFile[]; truncated: boolean }>;
  history(path: string): Promise<FileHistory>;
  /** The text of a version's side, or of the file now (`version` null); null: no file. */
  content(version: number | null, side: Side, path: string): Promise<string | null>;
  downloadUrl(version: number, side: Side): string;
  restore(version: number, side: Side, expectedHash: string | null): Promise<FileVersion[]>;
  changes(conversation: string): Promise<FileVersion[]>;
  undo(conversation: string, toolUseId: string, scope: "call" | "turn"): Promise<FileVersion[]>;
  redo(conversation: string, toolUseId: string): Promise<FileVersion[]>;
}

interface Options {
  base: () => string;
  token: () => string | null;
}

async function refusal(response: Response): Promise<Error> {
  try {
    const body = (await response.json()) as { detail?: { code?: string; message?: string; conflicts?: Conflict[] } };
    const detail = body.detail;
    if (detail?.code) return new VersionRefusal(detail.code, detail.message ?? detail.code, detail.conflicts ?? []);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, `request failed: ${response.status}`);
}

export function httpFilesApi(options: Options): FilesApi {
  const url = (path: string, query?: Record<string, string>) => {
    const params = new URLSearchParams(query);
    const token = options.token();
    if (token) params.set("token", token);
    const search = params.toString();
    return `${options.base()}/api${path}${search ? `?${search}` : ""}`;
  };
  const send = async (method: "GET" | "POST", path: string, query?: Record<string, string>, body?: unknown) => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(url(path, query), {
      method,
      headers,
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await refusal(response);
    return response;
  };
  const json = async <T>(method: "GET" | "POST", path: string, query?: Record<string, string>, body?: unknown) =>
    (await (await send(method, path, query, body)).json()) as T;
  const conversation = (id: string) => `/conversations/${encodeURIComponent(id)}`;

  return {
    list: () => json("GET", "/files"),
    history: (path) => json("GET", "/files/history", { path }),
    async content(version, side, path) {
      try {
        const response =
          version === null
            ? await send("GET", "/files/current", { path })
            : await send("GET", `/files/versions/${version}/content`, { side });
        return await response.text();
      } catch (error) {
        if (error instanceof VersionRefusal && error.code === "no_file") return null;
        throw error;
      }
    },
    downloadUrl: (version, side) => url(`/files/versions/${version}/content`, { side, download: "true" }),
    async restore(version, side, expectedHash) {
      const body = { side, expected_hash: expectedHash };
      return (await json<{ versions: FileVersion[] }>("POST", `/files/versions/${version}/restore`, {}, body))
        .versions;
    },
    async changes(id) {
      return (await json<{ versions: FileVersion[] }>("GET", `${conversation(id)}/file-changes`)).versions;
    },
    async undo(id, toolUseId, scope) {
      const body = { tool_use_id: toolUseId, scope };
      return (await json<{ versions: FileVersion[] }>("POST", `${conversation(id)}/undo`, {}, body)).versions;
    },
    async redo(id, toolUseId) {
      const body = { tool_use_id: toolUseId };
      return (await json<{ versions: FileVersion[] }>("POST", `${conversation(id)}/redo`, {}, body)).versions;
    },
  };
}

export function browserFilesApi(): FilesApi {
  return httpFilesApi({
    base: () => apiBase(socketBase(window.location, process.env.NEXT_PUBLIC_WS_URL)),
    token: () => pageToken(window.location.search),
  });
}
