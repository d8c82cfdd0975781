// Language and theme choices: tiny external stores backed by localStorage, readable before
// React renders (the socket URL needs the locale) and safe during the static prerender.
import { DEFAULT_LOCALE, isLocale, type Locale } from "./i18n";

export type Theme = "light" | "dark";

const LOCALE_KEY = "gatehouse.locale";
const THEME_KEY = "gatehouse.theme";

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

export const localePreference = preference<Locale>(
  () => {
    const stored = storage()?.getItem(LOCALE_KEY);
    return isLocale(stored) ? stored : DEFAULT_LOCALE;
  },
  DEFAULT_LOCALE,
  (value) => {
    storage()?.setItem(LOCALE_KEY, value);
    if (typeof document !== "undefined") document.documentElement.lang = value;
  },
);

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

/**
 * Runs in <head> before the first paint (app/layout.tsx), so a dark page never flashes white.
 * It mirrors themePreference's read: the stored choice, else the system's.
 */
export const THEME_BOOT_SCRIPT = `(function(){try{var t=localStorage.getItem("${THEME_KEY}");if(t!=="dark"&&t!=="light"){t=matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light"}if(t==="dark")document.documentElement.classList.add("dark");var l=localStorage.getItem("${LOCALE_KEY}");if(l==="en"||l==="pt-BR")document.documentElement.lang=l}catch(e){}})();`;
