// A prompt the person cannot miss while approvals wait: the tab's title counts them, the
// favicon gets a badge, a browser notification fires when a request arrives in a hidden tab,
// and, if the person turned it on, a chime plays. Framework-free: the page wires it to the
// chat store (components/approval_attention.tsx); tests drive it with their own environment.
import { badgedIconSvg, svgDataUrl } from "./favicon";
import { pluralForm, type Locale, type Translate } from "./i18n";

export interface WaitingCall {
  id: string;
  name: string;
  server: string;
}

/** The parts of `Notification` used here (absent where the browser has none). */
export interface NotificationApi {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): Notification;
}

export interface AttentionEnv {
  document: Document;
  /** Bring the tab to the front (window.focus). */
  focusWindow: () => void;
  notifications: NotificationApi | null;
  /** Whether the person turned the sound on, read at each new request. */
  soundOn: () => boolean;
  chime: () => void;
  /** Put keyboard focus in the approval dialog. */
  focusDialog: () => void;
}

const NOTIFICATION_TAG = "gatehouse-approval";
/** The approval dialog's element id: a notification's click puts the focus there. */
export const APPROVAL_DIALOG_ID = "approval-dialog";

interface SavedIcon {
  link: HTMLLinkElement;
  href: string | null;
  type: string | null;
  created: boolean;
}

export class Attention {
  private readonly env: AttentionEnv;
  private calls: WaitingCall[] = [];
  private t: Translate | null = null;
  private baseTitle: string | null = null;
  private savedIcon: SavedIcon | null = null;
  private permissionAsked = false;
  private notification: Notification | null = null;

  constructor(env: AttentionEnv) {
    this.env = env;
  }

  start(): void {
    this.env.document.addEventListener("visibilitychange", this.onVisibility);
  }

  stop(): void {
    this.env.document.removeEventListener("visibilitychange", this.onVisibility);
    this.closeNotification();
    this.restore();
  }

  /** The calls that wait now, oldest first, and the words of the UI's language. */
  update(calls: WaitingCall[], t: Translate, locale: Locale): void {
    const known = new Set(this.calls.map((call) => call.id));
    const fresh = calls.some((call) => !known.has(call.id));
    this.calls = calls;
    this.t = t;
    if (calls.length === 0) {
      this.closeNotification();
      this.restore();
      return;
    }
    this.show(calls.length, t, locale);
    if (!fresh) return;
    this.askPermissionOnce();
    if (this.env.soundOn()) this.env.chime();
    if (this.env.document.visibilityState === "hidden") this.notify();
  }

  private show(count: number, t: Translate, locale: Locale): void {
    const doc = this.env.document;
    this.baseTitle ??= doc.title;
    doc.title = t(`attention.title.${pluralForm(locale, count)}`, { n: count, app: this.baseTitle });
    const link = this.iconLink();
    link.type = "image/svg+xml";
    link.href = svgDataUrl(badgedIconSvg(count));
  }

  private iconLink(): HTMLLinkElement {
    if (this.savedIcon) return this.savedIcon.link;
    const doc = this.env.document;
    const found = doc.querySelector<HTMLLinkElement>('link[rel~="icon"]');
    const link = found ?? doc.createElement("link");
    if (!found) {
      link.rel = "icon";
      doc.head.appendChild(link);
    }
    this.savedIcon = {
      link,
      href: link.getAttribute("href"),
      type: link.getAttribute("type"),
      created: !found,
    };
    return link;
  }

  private restore(): void {
    if (this.baseTitle !== null) this.env.document.title = this.baseTitle;
    this.baseTitle = null;
    const saved = this.savedIcon;
    this.savedIcon = null;
    if (!saved) return;
    if (saved.created) {
      saved.link.remove();
      return;
    }
    restoreAttribute(saved.link, "href", saved.href);
    restoreAttribute(saved.link, "type", saved.type);
  }

  /** The first request of the page asks for the permission (never the page's load). */
  private askPermissionOnce(): void {
    const api = this.env.notifications;
    if (this.permissionAsked || api?.permission !== "default") return;
    this.permissionAsked = true;
    api.requestPermission().then(
      (permission) => {
        const hidden = this.env.document.visibilityState === "hidden";
        if (permission === "granted" && hidden && !this.notification) this.notify();
      },
      () => undefined, // refused or unsupported: the title and the badge still say it
    );
  }

  private notify(): void {
    const api = this.env.notifications;
    const t = this.t;
    if (api?.permission !== "granted" || !t || this.calls.length === 0) return;
    const [first] = this.calls;
    const body =
      this.calls.length === 1 && first
        ? t("attention.body.one", { tool: first.name, server: first.server })
        : t("attention.body.other", { n: this.calls.length });
    this.closeNotification();
    try {
      const notification = new api(t("approval.title"), { body, tag: NOTIFICATION_TAG });
      notification.addEventListener("click", () => {
        this.env.focusWindow();
        notification.close();
        this.env.focusDialog();
      });
      this.notification = notification;
    } catch {
      // Some browsers (Chrome on Android) only notify from a service worker: the title and
      // the badge still say it.
    }
  }

  private closeNotification(): void {
    this.notification?.close();
    this.notification = null;
  }

  private readonly onVisibility = (): void => {
    // Back on the tab, the dialog is in front of the person: the notification is done.
    if (this.env.document.visibilityState === "visible") this.closeNotification();
  };
}

function restoreAttribute(element: Element, name: string, value: string | null): void {
  if (value === null) element.removeAttribute(name);
  else element.setAttribute(name, value);
}
