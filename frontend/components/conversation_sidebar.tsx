"use client";
// The conversations: start a new one, switch to one, delete one (after a confirmation, see
// delete_conversation_dialog.tsx). Beside the chat on wide screens; a drawer on narrow ones.
import { memo, useCallback, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import type { ConversationSummary, ExportFormat } from "@/lib/conversations_api";
import { formatRelative } from "@/lib/format";
import type { Locale } from "@/lib/i18n";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useConversationList, useConversationsSelector } from "@/lib/use_conversations";
import { useNow } from "@/lib/use_now";
import { useLocale, useT } from "@/lib/use_preferences";
import {
  ChatIcon,
  CloseIcon,
  DownloadIcon,
  GateIcon,
  PencilIcon,
  PinIcon,
  PlusIcon,
  ShieldIcon,
  TrashIcon,
} from "./icons";
import { ImportButton, SearchBox, SearchResults } from "./sidebar_search";

export const SIDEBAR_NAV_ID = "conversation-nav";

export function ConversationSidebar({
  onNavigate,
  onClose,
}: {
  /** After the person opened a conversation or started one (the drawer closes). */
  onNavigate?: () => void;
  /** Shown as a close button on narrow screens, where the sidebar is a drawer. */
  onClose?: () => void;
}) {
  const t = useT();
  const headingId = useId();
  const client = useChatClient();
  const list = useConversationList();
  const status = useConversationsSelector((s) => s.status);
  const items = useConversationsSelector((s) => s.items);
  const hasMore = useConversationsSelector((s) => s.next !== null);
  const loadingMore = useConversationsSelector((s) => s.loadingMore);
  const activeId = useChatSelector((s) => s.sessionId);
  const canStartNew = useChatSelector((s) => s.messageIds.length > 0 || s.awaitingHistory);

  const startNew = () => {
    client.newChat();
    onNavigate?.();
  };
  const open = useCallback(
    (id: string) => {
      client.openConversation(id);
      onNavigate?.();
    },
    [client, onNavigate],
  );
  const askDelete = useCallback((id: string) => list.askDelete(id), [list]);

  const loading = (status === "idle" || status === "loading") && items.length === 0;
  const searching = useConversationsSelector((s) => s.query.trim() !== "");
  const actionFailed = useConversationsSelector((s) => s.actionFailed);

  return (
    <nav
      id={SIDEBAR_NAV_ID}
      aria-labelledby={headingId}
      tabIndex={-1}
      data-testid="sidebar"
      className="flex h-full min-h-0 flex-col outline-none"
    >
      <div className="flex h-14 shrink-0 items-center gap-2.5 px-4">
        <span className="grid size-8 shrink-0 place-items-center rounded-lg bg-indigo-600 text-lg text-white shadow-sm shadow-indigo-600/30">
          <GateIcon />
        </span>
        <p className="font-semibold tracking-tight">Gatehouse</p>
        {onClose && (
          <button
            type="button"
            onClick={onClose}
            aria-label={t("sidebar.close")}
            title={t("sidebar.close")}
            className="ml-auto grid size-8 place-items-center rounded-lg text-zinc-500 transition hover:bg-zinc-100 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 lg:hidden dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
          >
            <CloseIcon />
          </button>
        )}
      </div>

      <div className="shrink-0 px-3 pt-1 pb-4">
        <button
          type="button"
          onClick={startNew}
          disabled={!canStartNew}
          data-testid="new-chat"
          className="flex h-9 w-full items-center justify-center gap-2 rounded-lg border border-zinc-200 bg-white text-sm font-medium text-zinc-800 shadow-xs transition hover:border-indigo-300 hover:bg-indigo-50/60 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-50 disabled:hover:border-zinc-200 disabled:hover:bg-white dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:border-indigo-700 dark:hover:bg-indigo-950/40 dark:disabled:hover:border-zinc-700 dark:disabled:hover:bg-zinc-900"
        >
          <PlusIcon className="text-base" />
          {t("header.newChat")}
        </button>
        <ImportButton onImported={open} />
      </div>

      <SearchBox />
      <h2
        id={headingId}
        className="shrink-0 px-5 pb-1.5 text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400"
      >
        {t("sidebar.label")}
      </h2>

      <div className="min-h-0 flex-1 space-y-2 overflow-y-auto px-3 pb-3">
        {actionFailed && (
          <p role="alert" data-testid="sidebar-action-failed" className="px-2 text-xs text-rose-700 dark:text-rose-300">
            {t("sidebar.actionFailed")}
          </p>
        )}
        {status === "error" && (
          <div
            role="alert"
            data-testid="sidebar-error"
            className="rounded-lg border border-rose-200 bg-rose-50 px-3 py-2.5 text-sm text-rose-800 dark:border-rose-900/70 dark:bg-rose-950/50 dark:text-rose-200"
          >
            <p>{t("sidebar.error")}</p>
            <button
              type="button"
              onClick={() => void list.refresh()}
              className="mt-1.5 text-xs font-semibold underline underline-offset-2 hover:no-underline focus-visible:outline-2 focus-visible:outline-rose-500"
            >
              {t("notice.retry")}
            </button>
          </div>
        )}
        {searching && <SearchResults onOpen={open} />}
        {!searching && loading && <ListSkeleton label={t("sidebar.loading")} />}
        {!searching && status === "ready" && items.length === 0 && (
          <div data-testid="sidebar-empty" className="px-2 py-6 text-center text-sm text-zinc-500 dark:text-zinc-400">
            <ChatIcon className="mx-auto mb-2 text-2xl text-zinc-300 dark:text-zinc-600" />
            <p className="font-medium text-zinc-700 dark:text-zinc-300">{t("sidebar.empty")}</p>
            <p className="mt-1 text-xs">{t("sidebar.emptyHint")}</p>
          </div>
        )}
        {!searching && items.length > 0 && (
          <ConversationItems
            items={items}
            activeId={activeId}
            onOpen={open}
            onDelete={askDelete}
          />
        )}
        {!searching && hasMore && (
          <button
            type="button"
            onClick={() => void list.loadMore()}
            disabled={loadingMore}
            data-testid="sidebar-load-more"
            className="h-8 w-full rounded-lg text-xs font-medium text-zinc-600 transition hover:bg-zinc-100 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 disabled:opacity-50 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
          >
            {t("sidebar.loadMore")}
          </button>
        )}
      </div>

      <p className="flex shrink-0 items-start gap-2 border-t border-zinc-200/70 px-4 py-3 text-xs leading-relaxed text-zinc-500 dark:border-zinc-800/70 dark:text-zinc-400">
        <ShieldIcon className="mt-0.5 shrink-0 text-sm text-indigo-500" />
        {t("app.tagline")}
      </p>
    </nav>
  );
}

function ListSkeleton({ label }: { label: string }) {
  return (
    <div role="status" aria-live="polite" data-testid="sidebar-loading" className="space-y-1">
      <span className="sr-only">{label}</span>
      {[70, 55, 80, 45].map((width) => (
        <div key={width} aria-hidden="true" className="space-y-1.5 px-3 py-2.5">
          <div className="h-3 animate-pulse rounded bg-zinc-200 dark:bg-zinc-800" style={{ width: `${width}%` }} />
          <div className="h-2.5 w-16 animate-pulse rounded bg-zinc-100 dark:bg-zinc-800/60" />
        </div>
      ))}
    </div>
  );
}

/** Arrow keys, Home and End move between the conversations (Tab reaches each delete button). */
function moveFocus(event: KeyboardEvent<HTMLUListElement>) {
  const keys = ["ArrowDown", "ArrowUp", "Home", "End"];
  if (!keys.includes(event.key)) return;
  const buttons = Array.from(
    event.currentTarget.querySelectorAll<HTMLButtonElement>("button[data-conversation-id]"),
  );
  const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (index < 0 && (event.key === "ArrowDown" || event.key === "ArrowUp")) return;
  const next =
    event.key === "Home"
      ? 0
      : event.key === "End"
        ? buttons.length - 1
        : Math.min(buttons.length - 1, Math.max(0, index + (event.key === "ArrowDown" ? 1 : -1)));
  event.preventDefault();
  buttons[next]?.focus();
}

function ConversationItems({
  items,
  activeId,
  onOpen,
  onDelete,
}: {
  items: ConversationSummary[];
  activeId: string | null;
  onOpen: (id: string) => void;
  onDelete: (id: string) => void;
}) {
  const locale = useLocale();
  const now = useNow();
  return (
    <ul className="space-y-0.5" data-testid="conversation-list" onKeyDown={moveFocus}>
      {items.map((item) => (
        <ConversationItem
          key={item.id}
          item={item}
          active={item.id === activeId}
          now={now}
          locale={locale}
          onOpen={onOpen}
          onDelete={onDelete}
        />
      ))}
    </ul>
  );
}

const ConversationItem = memo(function ConversationItem({
  item,
  active,
  now,
  locale,
  onOpen,
  onDelete,
}: {
  item: ConversationSummary;
  active: boolean;
  now: number;
  locale: Locale;
  onOpen: (id: string) => void;
  onDelete: (id: string) => void;
}) {
  const t = useT();
  const list = useConversationList();
  const [renaming, setRenaming] = useState(false);
  const updated = Date.parse(item.updated_at);
  const exact = Number.isNaN(updated)
    ? ""
    : new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(updated);
  const exportAs = async (format: ExportFormat) => {
    const file = await list.exportFile(item.id, format, locale);
    if (file) saveFile(file.name, file.blob);
  };
  const title = item.title;
  return (
    <li
      className="group relative"
      data-testid="conversation-item"
      data-id={item.id}
      data-active={active}
      data-pinned={item.pinned || undefined}
    >
      {renaming ? (
        <RenameField
          title={title}
          onDone={(next) => {
            setRenaming(false);
            if (next !== null && next.trim() !== title) void list.rename(item.id, next);
          }}
        />
      ) : (
        <button
          type="button"
          onClick={() => onOpen(item.id)}
          aria-current={active ? "page" : undefined}
          data-conversation-id={item.id}
          className={`flex w-full flex-col items-start gap-0.5 rounded-lg pt-2 pb-8 pr-3 pl-3 text-left transition focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500 ${
            active
              ? "bg-indigo-50 text-indigo-950 dark:bg-indigo-950/60 dark:text-indigo-50"
              : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800/70"
          }`}
        >
          <span className="flex w-full items-center gap-1.5 text-sm font-medium">
            {item.pinned && (
              <PinIcon className="shrink-0 text-xs text-indigo-500" aria-label={t("sidebar.pinned")} />
            )}
            <span className="truncate" data-testid="conversation-title" title={title}>
              {title}
            </span>
          </span>
          {!Number.isNaN(updated) && (
            <time
              dateTime={item.updated_at}
              title={exact}
              className={`text-xs ${active ? "text-indigo-700/80 dark:text-indigo-300/80" : "text-zinc-500 dark:text-zinc-400"}`}
            >
              {formatRelative(updated, now, locale)}
            </time>
          )}
        </button>
      )}
      {!renaming && (
        // in the row's bottom padding (pb-8 above): never over the title or the time
        <div
          className={`absolute right-1 bottom-1 flex items-center gap-0.5 rounded-md bg-white/95 px-0.5 dark:bg-zinc-900/95 ${
            active ? "" : "lg:opacity-0 lg:group-focus-within:opacity-100 lg:group-hover:opacity-100"
          }`}
        >
          <RowAction
            label={t(item.pinned ? "sidebar.unpin" : "sidebar.pin", { title })}
            testId="pin-conversation"
            pressed={Boolean(item.pinned)}
            onClick={() => void list.togglePin(item.id)}
          >
            <PinIcon />
          </RowAction>
          <RowAction label={t("sidebar.rename", { title })} testId="rename-conversation" onClick={() => setRenaming(true)}>
            <PencilIcon />
          </RowAction>
          <RowAction
            label={t("sidebar.exportMarkdown", { title })}
            testId="export-markdown"
            onClick={() => void exportAs("markdown")}
          >
            <DownloadIcon />
          </RowAction>
          <RowAction label={t("sidebar.exportJson", { title })} testId="export-json" onClick={() => void exportAs("json")}>
            <span className="text-[9px] font-bold">{"{}"}</span>
          </RowAction>
          <RowAction
            label={t("sidebar.delete", { title })}
            testId="delete-conversation"
            deleteFor={item.id}
            danger
            onClick={() => onDelete(item.id)}
          >
            <TrashIcon />
          </RowAction>
        </div>
      )}
    </li>
  );
});

function RowAction({
  label,
  testId,
  onClick,
  pressed,
  deleteFor,
  danger = false,
  children,
}: {
  label: string;
  testId: string;
  onClick: () => void;
  pressed?: boolean;
  /** The delete button says whose it is: focus comes back to it (delete dialog). */
  deleteFor?: string;
  danger?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label={label}
      aria-pressed={pressed}
      title={label}
      data-testid={testId}
      data-delete-for={deleteFor}
      className={`grid size-6 place-items-center rounded-md text-zinc-400 transition focus-visible:outline-2 dark:text-zinc-500 ${
        danger
          ? "hover:bg-rose-50 hover:text-rose-600 focus-visible:outline-rose-500 dark:hover:bg-rose-950/60 dark:hover:text-rose-300"
          : "hover:bg-zinc-100 hover:text-zinc-800 focus-visible:outline-indigo-500 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
      } ${pressed ? "text-indigo-600 dark:text-indigo-400" : ""}`}
    >
      {children}
    </button>
  );
}

/** The title as a text field: Enter or leaving it saves, Escape keeps the old one. */
function RenameField({ title, onDone }: { title: string; onDone: (title: string | null) => void }) {
  const t = useT();
  const done = useRef(false);
  const finish = (value: string | null) => {
    if (done.current) return;
    done.current = true;
    onDone(value);
  };
  return (
    <input
      autoFocus
      defaultValue={title}
      maxLength={200}
      aria-label={t("sidebar.renameLabel")}
      data-testid="rename-input"
      onKeyDown={(event) => {
        if (event.key === "Enter") finish(event.currentTarget.value);
        if (event.key === "Escape") finish(null);
      }}
      onBlur={(event) => finish(event.currentTarget.value)}
      className="h-9 w-full rounded-lg border border-indigo-300 bg-white px-3 text-sm outline-none focus:ring-2 focus:ring-indigo-500 dark:border-indigo-700 dark:bg-zinc-900"
    />
  );
}

/** Hand a file to the browser to save. */
function saveFile(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
