"use client";
// Under a finished call that wrote files: undo it, undo its whole turn, redo; a refused undo
// (the file changed since) says so and offers the diff instead of overwriting.
import { useCallback, useEffect, useState } from "react";
import { VersionRefusal, type Conflict, type FileVersion } from "@/lib/files_api";
import type { MessageKey } from "@/lib/i18n";
import { useChatSelector } from "@/lib/use_chat";
import { useFilesApi } from "@/lib/use_files_api";
import { useT } from "@/lib/use_preferences";
import { textDiff } from "@/lib/text_diff";
import { DiffView } from "./diff_view";
import { Button } from "./ui/button";

const REFUSAL_TEXT: Record<string, MessageKey> = {
  changed_since: "undo.refused.changed_since",
  too_large_to_keep: "undo.refused.too_large_to_keep",
  already_undone: "undo.refused.already_undone",
};


interface Comparison {
  path: string;
  written: string | null;
  now: string | null;
}

export function FileChangeActions({ toolUseId }: { toolUseId: string }) {
  const t = useT();
  const api = useFilesApi();
  const conversation = useChatSelector((s) => s.sessionId);
  const [versions, setVersions] = useState<FileVersion[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<Conflict[]>([]);
  const [comparison, setComparison] = useState<Comparison | null>(null);

  const reload = useCallback(async () => {
    if (!conversation) return;
    const all = await api.changes(conversation);
    setVersions(all.filter((v) => v.tool_use_id === toolUseId));
  }, [api, conversation, toolUseId]);

  useEffect(() => {
    if (!conversation) return;
    let live = true;
    api.changes(conversation).then(
      (all) => {
        if (live) setVersions(all.filter((v) => v.tool_use_id === toolUseId));
      },
      () => undefined, // no versions shown: the card stays as it was
    );
    return () => {
      live = false;
    };
  }, [api, conversation, toolUseId]);

  const written = versions?.filter((v) => v.source === "tool") ?? [];
  if (!conversation || written.length === 0) return null;
  const undone = written.every((v) => v.undone_by !== null);

  const act = async (run: () => Promise<FileVersion[]>, done: MessageKey | null) => {
    setBusy(true);
    setConflicts([]);
    setComparison(null);
    try {
      await run();
      setMessage(done ? t(done) : null);
    } catch (error) {
      if (error instanceof VersionRefusal) {
        const key = REFUSAL_TEXT[error.code];
        setMessage(key ? t(key) : t("undo.refused.other", { message: error.message }));
        setConflicts(error.conflicts);
      } else {
        setMessage(t("undo.refused.other", { message: String(error) }));
      }
    } finally {
      setBusy(false);
      await reload().catch(() => undefined);
    }
  };

  const compare = async (conflict: Conflict) => {
    const version = written.filter((v) => v.path === conflict.path).at(-1);
    const before = version ? await api.content(version.id, "after", conflict.path) : null;
    const now = await api.content(null, "after", conflict.path);
    setComparison({ path: conflict.path, written: before, now });
  };

  return (
    <div data-testid="file-change-actions" data-undone={undone} className="space-y-2 border-t border-zinc-100 px-4 py-2.5 dark:border-zinc-800">
      <div className="flex flex-wrap gap-2">
        {undone ? (
          <Button variant="quiet" size="xs" disabled={busy} onClick={() => void act(() => api.redo(conversation, toolUseId), null)}>
            {t("undo.redo")}
          </Button>
        ) : (
          <>
            <Button variant="quiet" size="xs" disabled={busy} onClick={() => void act(() => api.undo(conversation, toolUseId, "call"), "undo.done")}>
              {t("undo.call")}
            </Button>
            <Button variant="quiet" size="xs" disabled={busy} onClick={() => void act(() => api.undo(conversation, toolUseId, "turn"), "undo.done")}>
              {t("undo.turn")}
            </Button>
          </>
        )}
      </div>
      {message && (
        <p role="status" data-testid="undo-message" className="text-sm text-zinc-700 dark:text-zinc-300">
          {message}
        </p>
      )}
      {conflicts.map((conflict) => (
        <Button variant="quiet" size="xs" key={conflict.path} onClick={() => void compare(conflict)}>
          {t("undo.compare")} · {conflict.path}
        </Button>
      ))}
      {comparison && <DiffView diff={textDiff(comparison.written, comparison.now)} path={comparison.path} />}
    </div>
  );
}
