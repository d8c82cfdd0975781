// A conversations API stand-in: the test decides what the server holds and when it answers.
import { ApiError, type ConversationSummary, type ConversationsApi } from "@/lib/conversations_api";

export function conversation(id: string, title: string, minutesAgo = 0): ConversationSummary {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return { id, title, created_at: at, updated_at: at };
}

export class FakeConversationsApi implements ConversationsApi {
  conversations: ConversationSummary[];
  listCalls = 0;
  removeCalls: string[] = [];
  failList = false;
  failRemove = false;
  private gates: (() => void)[] = [];
  private holding = false;

  constructor(conversations: ConversationSummary[] = []) {
    this.conversations = conversations;
  }

  /** From now on, list() waits until release(). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const open of this.gates.splice(0)) open();
  }

  async list(): Promise<ConversationSummary[]> {
    this.listCalls += 1;
    if (this.holding) await new Promise<void>((open) => this.gates.push(open));
    if (this.failList) throw new ApiError(500, "list failed");
    return [...this.conversations];
  }

  async remove(id: string): Promise<void> {
    this.removeCalls.push(id);
    if (this.failRemove) throw new ApiError(500, "delete failed");
    this.conversations = this.conversations.filter((c) => c.id !== id);
  }
}
