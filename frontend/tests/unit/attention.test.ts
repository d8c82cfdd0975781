import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Attention, type AttentionEnv, type NotificationApi, type WaitingCall } from "@/lib/attention";
import { translator, type Locale } from "@/lib/i18n";

/** The browser's Notification, as this test's browser: it records what the page does. */
function notificationApi(initial: NotificationPermission, answer: NotificationPermission) {
  const shown: { title: string; body: string | undefined; closed: boolean; target: EventTarget }[] = [];
  let requests = 0;
  class Recorded extends EventTarget {
    static permission: NotificationPermission = initial;
    static requestPermission(): Promise<NotificationPermission> {
      requests += 1; // the person answers later, as with the browser's prompt
      return Promise.resolve().then(() => (Recorded.permission = answer));
    }
    private readonly entry;
    constructor(title: string, options?: NotificationOptions) {
      super();
      this.entry = { title, body: options?.body, closed: false, target: this as EventTarget };
      shown.push(this.entry);
    }
    close(): void {
      this.entry.closed = true;
    }
  }
  return { api: Recorded as unknown as NotificationApi, shown, requests: () => requests };
}

function setVisibility(state: DocumentVisibilityState): void {
  Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}

const call = (id: string, name = "create_file"): WaitingCall => ({ id, name, server: "workspace" });
const iconHref = () => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.getAttribute("href");

function setup(notifications: NotificationApi | null = null, sound = false) {
  const events = { chimes: 0, windowFocus: 0, dialogFocus: 0 };
  const env: AttentionEnv = {
    document,
    focusWindow: () => void (events.windowFocus += 1),
    notifications,
    soundOn: () => sound,
    chime: () => void (events.chimes += 1),
    focusDialog: () => void (events.dialogFocus += 1),
  };
  const attention = new Attention(env);
  attention.start();
  const update = (calls: WaitingCall[], locale: Locale = "pt-BR") =>
    attention.update(calls, translator(locale), locale);
  return { attention, update, events };
}

describe("attention while approvals wait", () => {
  beforeEach(() => {
    document.head.innerHTML = '<link rel="icon" href="/icon.svg" type="image/svg+xml">';
    document.title = "Gatehouse";
    setVisibility("visible");
  });
  afterEach(() => setVisibility("visible"));

  it("counts the waiting calls in the title, in the UI's language, then restores it", () => {
    const { update } = setup();
    update([call("a")]);
    expect(document.title).toBe("(1) Aprovação pendente — Gatehouse");
    update([call("a"), call("b")]);
    expect(document.title).toBe("(2) Aprovações pendentes — Gatehouse");
    update([call("a"), call("b")], "en");
    expect(document.title).toBe("(2) Approvals pending — Gatehouse");
    update([call("b")], "en");
    expect(document.title).toBe("(1) Approval pending — Gatehouse");
    update([], "en");
    expect(document.title).toBe("Gatehouse");
  });

  it("puts a badge with the count on the favicon and gives the icon back after", () => {
    const { update } = setup();
    update([call("a"), call("b")]);
    const badged = iconHref() ?? "";
    expect(badged.startsWith("data:image/svg+xml,")).toBe(true);
    expect(decodeURIComponent(badged)).toContain(">2</text>");
    update([]);
    expect(iconHref()).toBe("/icon.svg");
    expect(document.querySelectorAll('link[rel~="icon"]')).toHaveLength(1);
  });

  it("asks for the permission at the first request, never before, and only once", async () => {
    const browser = notificationApi("default", "granted");
    const { update } = setup(browser.api);
    update([]);
    expect(browser.requests()).toBe(0);
    update([call("a")]);
    update([call("a"), call("b")]);
    await vi.waitFor(() => expect(browser.api.permission).toBe("granted"));
    update([call("c")]);
    expect(browser.requests()).toBe(1);
  });

  it("notifies only a hidden tab; a click brings the tab and the dialog forward", () => {
    const browser = notificationApi("granted", "granted");
    const { update, events } = setup(browser.api);
    update([call("a")]);
    expect(browser.shown).toHaveLength(0); // the person is looking at the dialog
    setVisibility("hidden");
    update([call("a"), call("b", "time__now")]);
    expect(browser.shown.map(({ title, body }) => ({ title, body }))).toEqual([
      { title: "O Claude quer usar uma ferramenta", body: "2 chamadas de ferramenta aguardam a sua aprovação." },
    ]);
    browser.shown[0]?.target.dispatchEvent(new Event("click"));
    expect(events).toMatchObject({ windowFocus: 1, dialogFocus: 1 });
    expect(browser.shown[0]?.closed).toBe(true);
  });

  it("notifies once the person grants the permission asked while hidden", async () => {
    const browser = notificationApi("default", "granted");
    const { update } = setup(browser.api);
    setVisibility("hidden");
    update([call("a")]);
    expect(browser.shown).toHaveLength(0); // not allowed yet
    await vi.waitFor(() => expect(browser.shown).toHaveLength(1));
    expect(browser.shown.map((n) => n.body)).toEqual(["create_file (workspace) aguarda a sua aprovação."]);
  });

  it("stays quiet when the permission is denied or the browser has no notifications", () => {
    const denied = notificationApi("denied", "denied");
    setVisibility("hidden");
    const first = setup(denied.api);
    first.update([call("a")]);
    expect(denied.requests()).toBe(0);
    expect(denied.shown).toHaveLength(0);
    first.attention.stop();
    const { update } = setup(null);
    update([call("b")]);
    expect(document.title).toBe("(1) Aprovação pendente — Gatehouse");
  });

  it("closes the notification when the person comes back to the tab", () => {
    const browser = notificationApi("granted", "granted");
    const { update } = setup(browser.api);
    setVisibility("hidden");
    update([call("a")]);
    setVisibility("visible");
    expect(browser.shown[0]?.closed).toBe(true);
  });

  it("chimes for each new request only when the person turned the sound on", () => {
    const quiet = setup(null, false);
    quiet.update([call("a")]);
    expect(quiet.events.chimes).toBe(0);
    quiet.attention.stop();
    const loud = setup(null, true);
    loud.update([call("a")]);
    loud.update([call("a")]); // the same call again: no new chime
    loud.update([call("a"), call("b")]);
    expect(loud.events.chimes).toBe(2);
  });
});
