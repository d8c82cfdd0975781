"use client";
import { soundPreference } from "@/lib/preferences";
import { useSound, useT } from "@/lib/use_preferences";
import { BellIcon, BellOffIcon } from "./icons";

/** The chime of approval requests: off by default, remembered in this browser. */
export function SoundToggle() {
  const t = useT();
  const on = useSound();
  const label = on ? t("sound.disable") : t("sound.enable");
  return (
    <button
      type="button"
      onClick={() => soundPreference.set(!on)}
      aria-label={label}
      title={label}
      aria-pressed={on}
      data-testid="sound-toggle"
      className="grid size-8 place-items-center rounded-lg border border-zinc-200 bg-white text-base text-zinc-600 shadow-xs transition hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800"
    >
      {on ? <BellIcon /> : <BellOffIcon />}
    </button>
  );
}
