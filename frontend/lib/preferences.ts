// Language and theme choices: tiny external stores backed by localStorage, readable before
// React renders (the socket URL needs the locale) and safe during the static prerender.
import { DEFAULT_LOCALE, isLocale, parseLocale, type Locale } from "./i18n";

export type Theme = "light" | "dark";

const LOCALE_KEY = "gatehouse.locale";
const THEME_KEY = "gatehouse.theme";
const SOUND_KEY = "gatehouse.sound";

interface Preference<T> {
  get: () => T;
  getServer: () => T;
  set: (value: T) => void;
  subscribe: (listener: () => void) => () => void;
}

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null;
  }
}

function preference<T>(read: () => T, serverValue: T, write: (value: T) => void): Preference<T> {
  const listeners = new Set<() => void>();
  let cached: T | undefined;
  return {
    get: () => (cached === undefined ? (cached = read()) : cached),
    getServer: () => serverValue,
    set: (value) => {
      cached = value;
      write(value);
      for (const listener of [...listeners]) listener();
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

export interface LocalePreference extends Preference<Locale> {
  /** The person's choice: the page's `?locale=`, else the switch's stored one; null if none. */
  chosen: () => Locale | null;
  /** Show the server's default (from session_created) while the person has chosen nothing. */
  adopt: (value: Locale) => void;
}

export interface LocaleSources {
  storage: () => Pick<Storage, "getItem" | "setItem"> | null;
  /** The page's query string. */
  search: () => string;
}

/**
 * The UI's language: the person's choice when there is one, else the server's default once
 * the server has said it, else pt-BR. Only a choice is stored; the server's default is not.
 */
export function createLocalePreference(sources: LocaleSources): LocalePreference {
  const listeners = new Set<() => void>();
  let chosen: Locale | null | undefined; // undefined: not read yet
  let adopted: Locale | null = null;
  const readChosen = (): Locale | null => {
    if (chosen === undefined) {
      const stored = sources.storage()?.getItem(LOCALE_KEY);
      chosen = parseLocale(new URLSearchParams(sources.search()).get("locale")) ?? (isLocale(stored) ? stored : null);
    }
    return chosen;
  };
  const show = (value: Locale) => {
    if (typeof document !== "undefined") document.documentElement.lang = value;
    for (const listener of [...listeners]) listener();
  };
  return {
    get: () => readChosen() ?? adopted ?? DEFAULT_LOCALE,
    getServer: () => DEFAULT_LOCALE,
    chosen: readChosen,
    set: (value) => {
      chosen = value;
      sources.storage()?.setItem(LOCALE_KEY, value);
      show(value);
    },
    adopt: (value) => {
      if (readChosen() !== null || adopted === value) return;
      adopted = value;
      show(value);
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

export const localePreference = createLocalePreference({
  storage,
  search: () => (typeof window === "undefined" ? "" : window.location.search),
});

function systemTheme(): Theme {
  if (typeof window === "undefined" || typeof window.matchMedia !== "function") return "light";
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export const themePreference = preference<Theme>(
  () => {
    const stored = storage()?.getItem(THEME_KEY);
    return stored === "dark" || stored === "light" ? stored : systemTheme();
  },
  "light",
  (value) => {
    storage()?.setItem(THEME_KEY, value);
    if (typeof document !== "undefined") {
      document.documentElement.classList.toggle("dark", value === "dark");
    }
  },
);

/** A chime when a tool asks for approval: off unless the person turns it on. */
export const soundPreference = preference<boolean>(
  () => storage()?.getItem(SOUND_KEY) === "on",
  false,
  (value) => storage()?.setItem(SOUND_KEY, value ? "on" : "off"),
);

/**
 * Runs in <head> before the first paint (app/layout.tsx), so a dark page never flashes white.
 * It mirrors themePreference's read: the stored choice, else the system's.
 */
export const THEME_BOOT_SCRIPT = `(function(){try{var t=localStorage.getItem("${THEME_KEY}");if(t!=="dark"&&t!=="light"){t=matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light"}if(t==="dark")document.documentElement.classList.add("dark");var l=localStorage.getItem("${LOCALE_KEY}"),q=(new URLSearchParams(location.search).get("locale")||"").toLowerCase();if(q.indexOf("en")===0)l="en";else if(q.indexOf("pt")===0)l="pt-BR";if(l==="en"||l==="pt-BR")document.documentElement.lang=l}catch(e){}})();`;
