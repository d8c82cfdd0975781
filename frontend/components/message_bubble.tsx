"use client";
import { memo, useState } from "react";
import {
  selectCanSend,
  selectContinuable,
  selectRetryable,
  type AssistantChatMessage,
  type UserChatMessage,
} from "@/lib/chat_state";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { AssistantAvatar } from "./assistant_avatar";
import { AttachmentList } from "./attachment_list";
import { AssistantPartView } from "./assistant_part_view";
import { BranchSwitcher } from "./branch_switcher";
import { CopyButton } from "./copy_button";
import { PencilIcon, RetryIcon, StopIcon } from "./icons";
import { MessageEditor } from "./message_editor";
import { UsageLine } from "./usage_line";

export const MessageBubble = memo(function MessageBubble({
  id,
}: {
  id: string;
}) {
  const message = useChatSelector((s) => s.messages[id]);
  if (!message) return null;
  return message.role === "user" ? (
    <UserBubble message={message} />
  ) : (
    <AssistantBubble message={message} />
  );
});

const COPY_MESSAGE_CLASS =
  "grid size-7 place-items-center rounded-md text-zinc-400 opacity-0 transition group-hover:opacity-100 group-focus-within:opacity-100 hover:bg-zinc-100 hover:text-zinc-800 focus-visible:opacity-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-zinc-800 dark:hover:text-zinc-100";

/** A reply's Markdown, as Claude wrote it (its text parts, in order). */
function markdownOf(message: AssistantChatMessage): string {
  return message.parts
    .flatMap((part) => (part.type === "text" ? [part.text] : []))
    .join("\n\n");
}

function UserBubble({ message }: { message: UserChatMessage }) {
  const t = useT();
  const client = useChatClient();
  const [editing, setEditing] = useState(false);
  const serverId = message.serverId;
  if (editing && serverId !== undefined) {
    return (
      <li className="flex justify-end" data-testid="message-user">
        <MessageEditor
          text={message.text}
          onCancel={() => setEditing(false)}
          onSave={(text) => {
            if (client.editMessage(serverId, text)) setEditing(false);
          }}
        />
      </li>
    );
  }
  return (
    <li
      className="group flex items-start justify-end gap-1"
      data-testid="message-user"
    >
      {message.branch && (
        <div className="mt-1.5">
          <BranchSwitcher branch={message.branch} />
        </div>
      )}
      {/* Kept while a reply runs, only hidden (the list's data-busy): adding and removing it on
          every bubble at each send and reply was a long task in a long conversation. */}
      {serverId !== undefined && (
        <button
          type="button"
          data-testid="edit-message"
          aria-label={t("message.edit")}
          title={t("message.edit")}
          onClick={() => setEditing(true)}
          className={`${COPY_MESSAGE_CLASS} mt-1.5 in-data-busy:invisible`}
        >
          <PencilIcon />
        </button>
      )}
      {message.text && (
        <CopyButton
          text={() => message.text}
          label={t("message.copyMessage")}
          testId="copy-message"
          className={`${COPY_MESSAGE_CLASS} mt-1.5`}
        />
      )}
      <div className="flex max-w-[85%] flex-col items-end gap-2">
        <span className="sr-only">{t("message.you")}: </span>
        {message.attachments?.length ? (
          <AttachmentList files={message.attachments} />
        ) : null}
        {message.text && (
          <div
            data-testid="message-content"
            className="max-w-full rounded-2xl rounded-br-md bg-indigo-600 px-4 py-2.5 text-[15px] leading-relaxed whitespace-pre-wrap break-words text-white shadow-sm shadow-indigo-600/20"
          >
            {message.text}
          </div>
        )}
        <RetryButton id={message.id} />
      </div>
    </li>
  );
}

function AssistantBubble({ message }: { message: AssistantChatMessage }) {
  const t = useT();
  const last = message.parts.length - 1;
  return (
    <li
      className="group flex gap-3"
      data-testid="message-assistant"
      data-streaming={message.streaming}
      aria-busy={message.streaming}
    >
      <AssistantAvatar />
      <span className="sr-only">{t("message.assistant")}: </span>
      <div className="min-w-0 flex-1 space-y-3 pt-0.5">
        <div className="space-y-3" data-testid="message-content">
          {message.parts.map((part, index) => (
            <AssistantPartView
              key={index}
              part={part}
              streaming={message.streaming && index === last}
            />
          ))}
          {message.reason === "cancelled" && (
            <p
              data-testid="stopped-marker"
              title={t("message.cancelled")}
              className="inline-flex items-center gap-1.5 rounded-full bg-zinc-100 px-2 py-0.5 text-xs font-medium text-zinc-500 ring-1 ring-zinc-200 ring-inset dark:bg-zinc-800/80 dark:text-zinc-400 dark:ring-zinc-700"
            >
              <StopIcon className="text-[10px]" />
              {t("message.stopped")}
            </p>
          )}
          {message.stopReason === "refusal" && (
            <p
              data-testid="refusal-notice"
              role="note"
              className="rounded-lg bg-amber-50 px-3 py-2 text-sm text-amber-800 ring-1 ring-amber-200 ring-inset dark:bg-amber-950/40 dark:text-amber-200 dark:ring-amber-800"
            >
              {t("message.refused")}
            </p>
          )}
          {message.stopReason === "max_tokens" && <CutNotice id={message.id} />}
        </div>
        {message.usage && !message.streaming && (
          <UsageLine usage={message.usage} />
        )}
        <div className="flex items-center gap-1 -ml-1.5">
          {message.branch && !message.streaming && <BranchSwitcher branch={message.branch} />}
          {!message.streaming && markdownOf(message) !== "" && (
            <CopyButton
              text={() => markdownOf(message)}
              label={t("message.copyMessage")}
              testId="copy-message"
              className={COPY_MESSAGE_CLASS}
            />
          )}
          <RetryButton id={message.id} />
        </div>
      </div>
    </li>
  );
}

/** On the last reply (also after an error or a stop): answer the same message again. */
function RetryButton({ id }: { id: string }) {
  const t = useT();
  const client = useChatClient();
  const retryable = useChatSelector((s) => selectRetryable(s) === id && selectCanSend(s));
  if (!retryable) return null;
  return (
    <button
      type="button"
      data-testid="retry"
      onClick={() => client.retry()}
      className="inline-flex items-center gap-1 rounded-md px-1.5 py-1 text-xs text-zinc-500 hover:bg-zinc-100 hover:text-zinc-800 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
    >
      <RetryIcon />
      {t("message.retry")}
    </button>
  );
}

/** A reply cut at the token limit; the last one can be continued. */
function CutNotice({ id }: { id: string }) {
  const t = useT();
  const client = useChatClient();
  const continuable = useChatSelector(
    (s) => selectContinuable(s) === id && selectCanSend(s),
  );
  return (
    <div
      data-testid="cut-notice"
      role="note"
      className="flex flex-wrap items-center gap-3 rounded-lg bg-zinc-50 px-3 py-2 text-sm text-zinc-600 ring-1 ring-zinc-200 ring-inset dark:bg-zinc-800/60 dark:text-zinc-300 dark:ring-zinc-700"
    >
      <span>{t("message.cut")}</span>
      {continuable && (
        <button
          type="button"
          onClick={() => client.continueReply()}
          className="rounded-md bg-indigo-600 px-2.5 py-1 text-xs font-medium text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
        >
          {t("message.continue")}
        </button>
      )}
    </div>
  );
}
