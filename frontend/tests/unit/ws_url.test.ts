import { describe, expect, it } from "vitest";
import { socketBase, socketUrl } from "@/lib/ws_url";

const page = (href: string) => {
  const url = new URL(href);
  return { protocol: url.protocol, host: url.host, port: url.port, search: url.search };
};

describe("socket URL", () => {
  it("uses the page's own origin when the backend serves the page", () => {
    expect(socketBase(page("http://localhost:4000/"), undefined)).toBe("ws://localhost:4000/ws");
    expect(socketBase(page("https://chat.example.com/"), undefined)).toBe("wss://chat.example.com/ws");
  });

  it("points next dev (:3000) at the backend on :4000", () => {
    expect(socketBase(page("http://localhost:3000/"), undefined)).toBe("ws://localhost:4000/ws");
  });

  it("prefers NEXT_PUBLIC_WS_URL when the build set it", () => {
    expect(socketBase(page("http://localhost:3000/"), "wss://api.example.com/ws")).toBe(
      "wss://api.example.com/ws",
    );
  });

  it("carries locale, the session to resume, and the page's token", () => {
    const url = new URL(
      socketUrl("ws://h:4000/ws", { locale: "en", sessionId: "abc", lastSeq: 7 }, "?token=s3cret"),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      locale: "en",
      session_id: "abc",
      last_seq: "7",
      token: "s3cret",
    });
    const fresh = new URL(socketUrl("ws://h:4000/ws", { locale: "pt-BR", sessionId: null, lastSeq: 3 }));
    expect(Object.fromEntries(fresh.searchParams)).toEqual({ locale: "pt-BR" });
  });
});
