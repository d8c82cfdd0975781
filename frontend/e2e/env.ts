// What global-setup.ts started, and helpers to script the Claude stand-in.
import { expect, test as base, type Page } from "@playwright/test";

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
  /** Stream the input JSON in this many pieces (2 by default)… */
  fragments?: number;
  /** …and stop after this many of them until `gate` is released. */
  hold_after?: number;
  gate?: string;
}

export type Reply =
  | {
      text: string[];
      delay_ms?: number;
      tool_uses?: ToolUse[];
      hold_after?: number;
      gate?: string;
      stop_reason?: "end_turn" | "max_tokens" | "refusal" | "pause_turn";
      /** Counts reported instead of the model server's own estimate. */
      usage?: Record<string, number>;
      /** Thinking deltas, streamed first when the request asks for thinking. */
      thinking?: string[];
      /** A gate: the thinking streams, then the reply waits until `release`. */
      thinking_hold?: string;
    }
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

/** The request bodies the model server received since the last reset, oldest first. */
export interface ModelRequest {
  model: string;
  messages: { role: string; content: unknown }[];
  thinking?: { type: string };
}

export async function modelRequests(): Promise<ModelRequest[]> {
  return (await control("requests")) as ModelRequest[];
}

export async function resetModel(): Promise<void> {
  await control("reset", {});
}

/** Let a reply scripted with `hold_after` + `gate` go on. Gates stay open: use a new name each time. */
export async function release(gate: string): Promise<void> {
  await control("release", { gate });
}

/** A gate name no other test uses. */
export function gateName(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface Conversation {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
}

/** What the backend lists at GET /api/conversations. */
export async function listConversations(): Promise<Conversation[]> {
  const response = await fetch(`${APP_URL}/api/conversations`);
  expect(response.status).toBe(200);
  return (await response.json()) as Conversation[];
}

export async function deleteConversation(id: string): Promise<void> {
  const response = await fetch(`${APP_URL}/api/conversations/${encodeURIComponent(id)}`, { method: "DELETE" });
  expect([204, 404]).toContain(response.status);
}

export async function send(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("composer-input");
  await expect(input).toBeEnabled();
  await input.fill(text);
  await input.press("Enter");
}

export const lastReply = (page: Page) =>
  page.getByTestId("message-assistant").last().getByTestId("message-content");

/** Ready to chat: connected, nothing running. */
export async function ready(page: Page): Promise<void> {
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
}

export const test = base.extend({
  baseURL: APP_URL,
});

export { expect };
