"use client";
import { useEffect, useState } from "react";
import type { ModelChoices, ModelsApi } from "@/lib/models_api";
import { pickerOptions } from "@/lib/models_api";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";

/** The conversation's model and extended thinking, for its next replies. */
export function ReplySettings({ api }: { api: ModelsApi }) {
  const t = useT();
  const client = useChatClient();
  const settings = useChatSelector((s) => s.settings);
  const online = useChatSelector((s) => s.connection === "open");
  const [choices, setChoices] = useState<ModelChoices | null>(null);

  useEffect(() => {
    let live = true;
    api.list().then(
      (answer) => live && setChoices(answer),
      () => live && setChoices(null), // the picker still shows the conversation's own model
    );
    return () => {
      live = false;
    };
  }, [api]);

  const options = pickerOptions(choices, settings?.model ?? null);
  const disabled = !online || settings === null;
  return (
    <div className="flex flex-wrap items-center gap-3 text-xs text-zinc-600 dark:text-zinc-400" data-testid="reply-settings">
      <label className="flex min-w-0 items-center gap-1.5">
        <span>{t("settings.model")}</span>
        <select
          data-testid="model-picker"
          value={settings?.model ?? ""}
          disabled={disabled}
          onChange={(event) => client.configure({ model: event.target.value })}
          className="max-w-56 truncate rounded-md border border-zinc-300 bg-white px-1.5 py-1 text-xs text-zinc-800 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-60 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
        >
          {options.map((model) => (
            <option key={model.id} value={model.id}>
              {model.display_name}
            </option>
          ))}
        </select>
      </label>
      <label className="flex items-center gap-1.5">
        <input
          type="checkbox"
          data-testid="thinking-toggle"
          checked={settings?.thinking ?? false}
          disabled={disabled}
          onChange={(event) => client.configure({ thinking: event.target.checked })}
          className="size-3.5 accent-indigo-600"
        />
        <span>{t("settings.thinking")}</span>
      </label>
      {choices?.fallback && (
        <span data-testid="models-fallback" className="text-amber-700 dark:text-amber-300">
          {t("settings.fallback")}
        </span>
      )}
    </div>
  );
}
