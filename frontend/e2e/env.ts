// What global-setup.ts started, and helpers to script the Claude stand-in.
import { expect, test as base } from "@playwright/test";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the e2e global setup did not run`);
  return value;
}

export const APP_URL = required("GATEHOUSE_URL");
export const MODEL_URL = required("GATEHOUSE_MODEL_URL");
export const WORKSPACE = required("GATEHOUSE_WORKSPACE");

export interface ToolUse {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export type Reply =
  | { text: string[]; delay_ms?: number; tool_uses?: ToolUse[] }
  | { deltas: { count: number; min_bytes: number; max_bytes: number }; delay_ms?: number }
  | { http_error: { status: number; type: string; message: string } };

async function control(path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${MODEL_URL}/_control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `model server /_control/${path}`).toBe(200);
  return response.json();
}

/** Script Claude's reply to the next request whose last user text contains `match`. */
export async function script(match: string, reply: Reply, times = 1): Promise<void> {
  await control("script", { match, reply, times });
}

export async function resetModel(): Promise<void> {
  await control("reset", {});
}

export const test = base.extend({
  baseURL: APP_URL,
});

export { expect };
