"use client";
import { useMemo, useSyncExternalStore } from "react";
import { translator, type Locale, type Translate } from "./i18n";
import { localePreference, soundPreference, themePreference, type Theme } from "./preferences";

export function useLocale(): Locale {
  return useSyncExternalStore(
    localePreference.subscribe,
    localePreference.get,
    localePreference.getServer,
  );
}

export function useT(): Translate {
  const locale = useLocale();
  return useMemo(() => translator(locale), [locale]);
}

export function useTheme(): Theme {
  return useSyncExternalStore(themePreference.subscribe, themePreference.get, themePreference.getServer);
}

export function useSound(): boolean {
  return useSyncExternalStore(soundPreference.subscribe, soundPreference.get, soundPreference.getServer);
}
