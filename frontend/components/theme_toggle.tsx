"use client";
import { themePreference } from "@/lib/preferences";
import { useT, useTheme } from "@/lib/use_preferences";
import { MoonIcon, SunIcon } from "./icons";

export function ThemeToggle() {
  const t = useT();
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  const label = next === "dark" ? t("header.themeDark") : t("header.themeLight");
  return (
    <button
      type="button"
      onClick={() => themePreference.set(next)}
      aria-label={label}
      title={label}
      data-testid="theme-toggle"
      className="grid size-8 place-items-center rounded-lg border border-zinc-200 bg-white text-base text-zinc-600 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
    >
      {theme === "dark" ? <SunIcon /> : <MoonIcon />}
    </button>
  );
}
