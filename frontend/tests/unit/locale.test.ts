import { beforeEach, describe, expect, it } from "vitest";
import { ChatClient } from "@/lib/chat_client";
import { parseLocale } from "@/lib/i18n";
import { createLocalePreference } from "@/lib/preferences";
import { FakeWebSocket } from "../helpers/fake_socket";
import { frameMaker } from "../helpers/frames";

beforeEach(() => {
  FakeWebSocket.reset();
});

function memoryStorage(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

function preference(search = "", stored: Record<string, string> = {}) {
  const storage = memoryStorage(stored);
  return { storage, locale: createLocalePreference({ storage: () => storage, search: () => search }) };
}

describe("the UI's language", () => {
  it("reads ?locale= as the server does", () => {
    expect(["en", "en-US", "EN", "pt", "pt-BR", "fr", "", null].map(parseLocale)).toEqual([
      "en",
      "en",
      "en",
      "pt-BR",
      "pt-BR",
      null,
      null,
      null,
    ]);
  });

  it("shows pt-BR until the server says its default, then the server's, without storing it", () => {
    const { storage, locale } = preference();
    expect([locale.chosen(), locale.get()]).toEqual([null, "pt-BR"]);
    let notified = 0;
    locale.subscribe(() => (notified += 1));
    locale.adopt("en");
    expect([locale.chosen(), locale.get(), notified]).toEqual([null, "en", 1]);
    expect(storage.items.size).toBe(0);
  });

  it("keeps the person's choice over the server's default", () => {
    const { locale } = preference("", { "gatehouse.locale": "pt-BR" });
    locale.adopt("en");
    expect([locale.chosen(), locale.get()]).toEqual(["pt-BR", "pt-BR"]);
  });

  it("takes the page's ?locale= over a stored choice, and the switch over both", () => {
    const { storage, locale } = preference("?locale=en-US", { "gatehouse.locale": "pt-BR" });
    expect([locale.chosen(), locale.get()]).toEqual(["en", "en"]);
    locale.set("pt-BR");
    expect([locale.chosen(), locale.get()]).toEqual(["pt-BR", "pt-BR"]);
    expect(storage.items.get("gatehouse.locale")).toBe("pt-BR");
  });
});

describe("the socket's language", () => {
  function client(locale: ReturnType<typeof createLocalePreference>) {
    return new ChatClient({
      base: () => "ws://example.test/ws",
      locale: locale.chosen,
      onServerLocale: locale.adopt,
      createSocket: FakeWebSocket.create,
      store: { frameMs: 0, afterRender: null },
    });
  }

  it("asks for no language when none was chosen, and adopts the one the server says", () => {
    const { locale } = preference();
    const chat = client(locale);
    chat.start();
    const first = FakeWebSocket.last;
    expect(new URL(first.url).searchParams.has("locale")).toBe(false);
    first.open();
    first.receive(frameMaker().session("abc", false, "en"));
    expect(locale.get()).toBe("en");
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("keeps its socket when the person chooses, and asks for the choice on the next one", () => {
    const { locale } = preference();
    const chat = client(locale);
    chat.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive(frameMaker().session("abc", false, "en"));
    locale.set("pt-BR");
    expect(FakeWebSocket.instances).toHaveLength(1);
    chat.reconnect();
    const url = new URL(FakeWebSocket.last.url);
    expect([url.searchParams.get("locale"), url.searchParams.get("session_id")]).toEqual(["pt-BR", "abc"]);
  });

  it("sends the page's ?locale= from the first connection", () => {
    const chat = client(preference("?locale=en").locale);
    chat.start();
    expect(new URL(FakeWebSocket.last.url).searchParams.get("locale")).toBe("en");
  });
});
