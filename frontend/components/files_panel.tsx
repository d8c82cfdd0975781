"use client";
// The Files panel: the workspace as a tree; a file's versions with who wrote them (conversation,
// turn, time); view, diff, download and restore (refused when the file changed since it was shown).
import { useCallback, useEffect, useMemo, useState } from "react";
import { VersionRefusal, type FileHistory, type FileVersion, type ListedFile, type Side } from "@/lib/files_api";
import type { MessageKey } from "@/lib/i18n";
import { useFilesApi } from "@/lib/use_files_api";
import { useLocale, useT } from "@/lib/use_preferences";
import { textDiff } from "@/lib/text_diff";
import { DiffView } from "./diff_view";
import { Button, buttonClass } from "./ui/button";
import { Sheet } from "./ui/sheet";


const SOURCE_LABEL: Record<FileVersion["source"], MessageKey> = {
  tool: "files.source.tool",
  undo: "files.source.undo",
  redo: "files.source.redo",
  restore: "files.source.restore",
};

type Shown =
  | { kind: "text"; title: string; text: string | null }
  | { kind: "diff"; title: string; before: string | null; after: string | null };

interface TreeRow {
  depth: number;
  name: string;
  file: ListedFile | null; // null: a folder
}

/** Folders first-seen order, each file under its folders, indented by depth. */
function treeRows(files: ListedFile[]): TreeRow[] {
  const rows: TreeRow[] = [];
  const opened = new Set<string>();
  for (const file of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    const parts = file.path.split("/");
    for (let depth = 0; depth < parts.length - 1; depth++) {
      const folder = parts.slice(0, depth + 1).join("/");
      if (!opened.has(folder)) {
        opened.add(folder);
        rows.push({ depth, name: `${parts[depth]}/`, file: null });
      }
    }
    rows.push({ depth: parts.length - 1, name: parts.at(-1) ?? file.path, file });
  }
  return rows;
}

export function FilesPanel({
  onClose,
  returnFocus,
}: {
  onClose: () => void;
  /** Where focus goes when the panel closes (the Files button). */
  returnFocus?: () => HTMLElement | null;
}) {
  const t = useT();
  const api = useFilesApi();
  const [files, setFiles] = useState<{ files: ListedFile[]; truncated: boolean } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [history, setHistory] = useState<FileHistory | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    setFiles(await api.list());
  }, [api]);
  const open = useCallback(
    async (path: string) => {
      setSelected(path);
      setShown(null);
      setHistory(await api.history(path));
    },
    [api],
  );

  useEffect(() => {
    let live = true;
    void api.list().then((listed) => {
      if (live) setFiles(listed);
    });
    return () => {
      live = false;
    };
  }, [api]);

  const rows = useMemo(() => treeRows(files?.files ?? []), [files]);

  const text = (version: FileVersion, side: Side) =>
    version[side].exists ? api.content(version.id, side, version.path) : Promise.resolve(null);

  const restore = async (version: FileVersion) => {
    if (!history) return;
    try {
      await api.restore(version.id, "after", history.current.hash);
      setNotice(t("files.restored"));
    } catch (error) {
      setNotice(
        error instanceof VersionRefusal && error.code === "changed_since"
          ? t("undo.refused.changed_since")
          : t("undo.refused.other", { message: error instanceof Error ? error.message : String(error) }),
      );
    }
    await Promise.all([open(version.path), refresh()]);
  };

  return (
    <Sheet
      title={t("files.title")}
      closeLabel={t("files.close")}
      onEscape={onClose}
      returnFocus={returnFocus}
      testId="files-panel"
    >
      <div className="flex min-h-0 flex-1">
        <nav aria-label={t("files.title")} className="w-72 shrink-0 overflow-y-auto border-r border-zinc-200 p-2 dark:border-zinc-800">
          {files === null && <p className="p-2 text-sm text-zinc-500">{t("files.loading")}</p>}
          {files?.files.length === 0 && <p className="p-2 text-sm text-zinc-500">{t("files.empty")}</p>}
          <ul data-testid="files-tree">
            {rows.map((row, index) => (
              <li key={index} style={{ paddingLeft: `${row.depth * 0.9}rem` }}>
                {row.file === null ? (
                  <span className="block px-2 py-0.5 font-mono text-xs text-zinc-500">{row.name}</span>
                ) : (
                  <FileRow file={row.file} name={row.name} selected={selected === row.file.path} onOpen={open} />
                )}
              </li>
            ))}
          </ul>
          {files?.truncated && <p className="p-2 text-xs text-amber-700">{t("files.truncated")}</p>}
        </nav>
        <section className="min-w-0 flex-1 space-y-3 overflow-y-auto p-4" data-testid="file-history">
          {!history && <p className="text-sm text-zinc-500">{t("files.pick")}</p>}
          {history && (
            <>
              <div className="flex flex-wrap items-center gap-2">
                <h3 className="font-mono text-sm font-semibold">{history.path}</h3>
                {history.changed_outside && <OutsideChip />}
              </div>
              {notice && (
                <p role="status" data-testid="files-notice" className="text-sm text-zinc-700 dark:text-zinc-300">
                  {notice}
                </p>
              )}
              {history.versions.length === 0 && <p className="text-sm text-zinc-500">{t("files.noVersions")}</p>}
              <ol className="space-y-2" data-testid="file-versions">
                {history.versions.map((version) => (
                  <VersionRow
                    key={version.id}
                    version={version}
                    downloadUrl={version.after.exists ? api.downloadUrl(version.id, "after") : null}
                    onView={async () =>
                      setShown({ kind: "text", title: `#${version.id}`, text: await text(version, "after") })
                    }
                    onDiff={async () =>
                      setShown({
                        kind: "diff",
                        title: `#${version.id}`,
                        before: await text(version, "before"),
                        after: await text(version, "after"),
                      })
                    }
                    onDiffCurrent={async () =>
                      setShown({
                        kind: "diff",
                        title: `#${version.id} → ${t("files.current")}`,
                        before: await text(version, "after"),
                        after: await api.content(null, "after", version.path),
                      })
                    }
                    onRestore={() => void restore(version)}
                  />
                ))}
              </ol>
              {shown && (
                <div data-testid="file-shown" className="space-y-1">
                  <p className="text-xs font-semibold text-zinc-500">{shown.title}</p>
                  {shown.kind === "text" ? (
                    <pre data-testid="file-text" className="max-h-80 overflow-auto rounded-lg bg-zinc-950 p-3 font-mono text-[12.5px] whitespace-pre-wrap text-zinc-100">
                      {shown.text ?? t("files.noFile")}
                    </pre>
                  ) : (
                    <DiffView diff={textDiff(shown.before, shown.after)} path={history.path} />
                  )}
                </div>
              )}
            </>
          )}
        </section>
      </div>
    </Sheet>
  );
}

function OutsideChip() {
  const t = useT();
  return (
    <span data-testid="changed-outside" className="rounded-full bg-amber-100 px-2 py-0.5 text-[11px] font-semibold text-amber-800 dark:bg-amber-900/60 dark:text-amber-200">
      {t("files.changedOutside")}
    </span>
  );
}

function FileRow({
  file,
  name,
  selected,
  onOpen,
}: {
  file: ListedFile;
  name: string;
  selected: boolean;
  onOpen: (path: string) => Promise<void>;
}) {
  const t = useT();
  return (
    <button
      type="button"
      data-testid="files-entry"
      data-path={file.path}
      aria-current={selected}
      onClick={() => void onOpen(file.path)}
      className={`flex w-full items-center gap-2 rounded-md px-2 py-0.5 text-left font-mono text-xs hover:bg-zinc-100 dark:hover:bg-zinc-800 ${selected ? "bg-indigo-50 dark:bg-indigo-950/50" : ""}`}
    >
      <span className={`min-w-0 flex-1 truncate ${file.exists ? "" : "line-through"}`}>{name}</span>
      {file.changed_outside && (
        <span title={file.exists ? t("files.changedOutside") : t("files.missing")} className="text-amber-600">
          ●
        </span>
      )}
    </button>
  );
}

function VersionRow({
  version,
  downloadUrl,
  onView,
  onDiff,
  onDiffCurrent,
  onRestore,
}: {
  version: FileVersion;
  downloadUrl: string | null;
  onView: () => Promise<void>;
  onDiff: () => Promise<void>;
  onDiffCurrent: () => Promise<void>;
  onRestore: () => void;
}) {
  const t = useT();
  const locale = useLocale();
  const when = new Date(version.created_at * 1000).toLocaleString(locale);
  const who =
    version.conversation_id === null
      ? null
      : `${version.conversation_title || t("files.unknownConversation")}${version.turn === null ? "" : ` · ${t("files.turn", { turn: version.turn })}`}`;
  const kept = !version.after.exists || version.after.kept;
  return (
    <li data-testid="file-version" data-source={version.source} className="rounded-lg border border-zinc-200 p-2.5 text-sm dark:border-zinc-800">
      <div className="flex flex-wrap items-center gap-x-2 text-xs">
        <span className="font-semibold">{t(SOURCE_LABEL[version.source])}</span>
        {who && <span data-testid="version-origin" className="text-zinc-600 dark:text-zinc-400">{who}</span>}
        <time className="text-zinc-500">{when}</time>
        {version.undone_by !== null && <span className="text-zinc-500 italic">({t("files.undoneMark")})</span>}
        {!kept && <span className="text-amber-700">{t("files.tooLarge")}</span>}
      </div>
      {kept && (
        <div className="mt-2 flex flex-wrap gap-1.5">
          <Button variant="quiet" size="xs" onClick={() => void onView()}>{t("files.view")}</Button>
          <Button variant="quiet" size="xs" onClick={() => void onDiff()}>{t("files.diff")}</Button>
          <Button variant="quiet" size="xs" onClick={() => void onDiffCurrent()}>{t("files.diffCurrent")}</Button>
          {downloadUrl && (
            <a className={buttonClass("quiet", "xs")} href={downloadUrl} download>{t("files.download")}</a>
          )}
          <Button variant="quiet" size="xs" onClick={onRestore}>{t("files.restore")}</Button>
        </div>
      )}
    </li>
  );
}
