"use client";
import { LOCALES, type Locale } from "@/lib/i18n";
import { localePreference } from "@/lib/preferences";
import { useLocale, useT } from "@/lib/use_preferences";

const SHORT: Record<Locale, string> = { "pt-BR": "PT", en: "EN" };
const NAME: Record<Locale, string> = { "pt-BR": "Português (Brasil)", en: "English" };

export function LanguageSwitcher() {
  const t = useT();
  const current = useLocale();
  return (
    <div
      role="group"
      aria-label={t("header.language")}
      className="inline-flex h-8 rounded-lg border border-zinc-200 bg-zinc-100 p-0.5 dark:border-zinc-700 dark:bg-zinc-800"
    >
      {LOCALES.map((locale) => (
        <button
          key={locale}
          type="button"
          lang={locale}
          title={NAME[locale]}
          aria-label={NAME[locale]}
          aria-pressed={locale === current}
          data-testid={`locale-${locale}`}
          onClick={() => localePreference.set(locale)}
          className="rounded-md px-2 text-xs font-semibold text-zinc-500 transition hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 aria-pressed:bg-white aria-pressed:text-zinc-900 aria-pressed:shadow-xs dark:text-zinc-400 dark:hover:text-zinc-100 dark:aria-pressed:bg-zinc-950 dark:aria-pressed:text-zinc-100"
        >
          {SHORT[locale]}
        </button>
      ))}
    </div>
  );
}
