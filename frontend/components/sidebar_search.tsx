"use client";
// The sidebar's search (titles and message text, matches highlighted) and its import button.
import { useRef, useState } from "react";
import type { SearchResult, SnippetPart } from "@/lib/conversations_api";
import { useConversationList, useConversationsSelector } from "@/lib/use_conversations";
import { useT } from "@/lib/use_preferences";
import { CloseIcon, SearchIcon, UploadIcon } from "./icons";
import { SEARCH_INPUT_ID } from "./keyboard_shortcuts";

export function SearchBox() {
  const t = useT();
  const list = useConversationList();
  const query = useConversationsSelector((s) => s.query);
  return (
    <div role="search" className="relative shrink-0 px-3 pb-3">
      <SearchIcon className="pointer-events-none absolute top-1/2 left-6 -translate-y-[calc(50%+6px)] text-sm text-zinc-400" />
      <input
        type="search"
        id={SEARCH_INPUT_ID}
        value={query}
        onChange={(event) => list.setQuery(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape") list.setQuery("");
        }}
        maxLength={200}
        placeholder={t("sidebar.search")}
        aria-label={t("sidebar.search")}
        data-testid="search-input"
        className="h-9 w-full rounded-lg border border-zinc-200 bg-white pr-8 pl-8 text-sm shadow-xs outline-none placeholder:text-zinc-400 focus:border-indigo-400 focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-900 [&::-webkit-search-cancel-button]:hidden"
      />
      {query && (
        <button
          type="button"
          onClick={() => list.setQuery("")}
          aria-label={t("sidebar.close")}
          className="absolute top-1/2 right-5 grid size-6 -translate-y-[calc(50%+6px)] place-items-center rounded text-zinc-400 hover:text-zinc-700 dark:hover:text-zinc-200"
        >
          <CloseIcon />
        </button>
      )}
    </div>
  );
}

export function SearchResults({ onOpen }: { onOpen: (id: string) => void }) {
  const t = useT();
  const query = useConversationsSelector((s) => s.query);
  const results = useConversationsSelector((s) => s.results);
  const failed = useConversationsSelector((s) => s.searchFailed);
  if (results === null) {
    return (
      <p role="status" className="px-2 py-3 text-sm text-zinc-500 dark:text-zinc-400">
        {t("sidebar.searching")}
      </p>
    );
  }
  if (failed) {
    return (
      <p role="alert" className="px-2 py-3 text-sm text-rose-700 dark:text-rose-300">
        {t("sidebar.searchError")}
      </p>
    );
  }
  if (results.length === 0) {
    return (
      <p role="status" data-testid="search-empty" className="px-2 py-3 text-sm text-zinc-500 dark:text-zinc-400">
        {t("sidebar.noResults", { query: query.trim() })}
      </p>
    );
  }
  return (
    <ul aria-label={t("sidebar.results")} data-testid="search-results" className="space-y-1">
      {results.map((result) => (
        <SearchResultItem key={result.id} result={result} onOpen={onOpen} />
      ))}
    </ul>
  );
}

function SearchResultItem({ result, onOpen }: { result: SearchResult; onOpen: (id: string) => void }) {
  const titleMatch = result.matches.find((match) => match.position < 0);
  const textMatches = result.matches.filter((match) => match.position >= 0);
  return (
    <li data-testid="search-result" data-id={result.id}>
      <button
        type="button"
        onClick={() => onOpen(result.id)}
        className="flex w-full flex-col items-start gap-1 rounded-lg px-3 py-2 text-left text-zinc-700 transition hover:bg-zinc-100 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500 dark:text-zinc-300 dark:hover:bg-zinc-800/70"
      >
        <span className="w-full truncate text-sm font-medium">
          {titleMatch ? <Snippet parts={titleMatch.snippet} /> : result.title}
        </span>
        {textMatches.map((match) => (
          <span key={match.position} className="line-clamp-2 text-xs text-zinc-500 dark:text-zinc-400">
            <Snippet parts={match.snippet} />
          </span>
        ))}
      </button>
    </li>
  );
}

/** A snippet from the server as text, its matched pieces marked (no HTML is parsed). */
export function Snippet({ parts }: { parts: SnippetPart[] }) {
  return (
    <>
      {parts.map((part, index) =>
        part.hit ? (
          <mark
            key={index}
            data-testid="search-hit"
            className="rounded-sm bg-amber-200/80 px-0.5 text-inherit dark:bg-amber-500/40"
          >
            {part.text}
          </mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
    </>
  );
}

/** Pick a JSON export and read it back as a new conversation, then open it. */
export function ImportButton({ onImported }: { onImported: (id: string) => void }) {
  const t = useT();
  const list = useConversationList();
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const read = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    const id = await list.importFile(await file.text());
    setBusy(false);
    if (input.current) input.current.value = "";
    if (id) onImported(id);
  };
  return (
    <>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        data-testid="import-input"
        onChange={(event) => void read(event.target.files?.[0])}
      />
      <button
        type="button"
        disabled={busy}
        onClick={() => input.current?.click()}
        data-testid="import-conversation"
        className="mt-1.5 flex h-8 w-full items-center justify-center gap-2 rounded-lg text-xs font-medium text-zinc-600 transition hover:bg-zinc-100 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-50 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
      >
        <UploadIcon />
        {t("sidebar.import")}
      </button>
    </>
  );
}
