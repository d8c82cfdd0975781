// Render components against a real ChatClient whose socket the test drives.
import { act, render, type RenderResult } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import type { ReactElement } from "react";
import { ChatClient } from "@/lib/chat_client";
import type { ConversationList } from "@/lib/conversation_list";
import type { Locale } from "@/lib/i18n";
import { localePreference } from "@/lib/preferences";
import type { ServerFrame } from "@/lib/protocol";
import { ChatContext } from "@/lib/use_chat";
import { ConversationsContext } from "@/lib/use_conversations";
import { FakeWebSocket } from "./fake_socket";
import { frameMaker } from "./frames";

export interface ChatHarness extends RenderResult {
  client: ChatClient;
  socket: FakeWebSocket;
  user: UserEvent;
  f: ReturnType<typeof frameMaker>;
  receive: (...frames: ServerFrame[]) => void;
}

export interface RenderChatOptions {
  locale?: Locale;
  /** The id of the conversation the first connection opens. */
  sessionId?: string;
  /** Where the client keeps the session id (none by default). */
  sessionStore?: Storage | null;
  /** Provided to the components when given (the sidebar needs it). */
  conversations?: ConversationList;
}

export function renderChat(
  ui: ReactElement,
  { locale = "pt-BR", sessionId = "s1", sessionStore = null, conversations }: RenderChatOptions = {},
): ChatHarness {
  FakeWebSocket.reset();
  localePreference.set(locale);
  const client = new ChatClient({
    base: () => "ws://example.test/ws",
    locale: localePreference.chosen,
    onServerLocale: localePreference.adopt,
    createSocket: FakeWebSocket.create,
    sessionStore,
    // Publish every change at once: tests look at the DOM right after each frame.
    store: { frameMs: 0, afterRender: null },
  });
  client.start();
  const socket = FakeWebSocket.last;
  const f = frameMaker();
  act(() => {
    socket.open();
    socket.receive(f.session(sessionId));
  });
  const tree = conversations ? (
    <ConversationsContext.Provider value={conversations}>{ui}</ConversationsContext.Provider>
  ) : (
    ui
  );
  const result = render(<ChatContext.Provider value={client}>{tree}</ChatContext.Provider>);
  const receive = (...frames: ServerFrame[]) =>
    act(() => {
      for (const frame of frames) socket.receive(frame);
    });
  return { ...result, client, socket, user: userEvent.setup(), f, receive };
}
