"use client";
import {
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from "react";
import { ACCEPTED_TYPES, MAX_FILES, readFiles, type PendingFile } from "@/lib/attachments";
import { selectCanSend } from "@/lib/chat_state";
import { useChatClient, useChatSelector } from "@/lib/use_chat";
import { useT } from "@/lib/use_preferences";
import { AttachmentList } from "./attachment_list";
import { CloseIcon, PaperclipIcon, SendIcon, StopIcon } from "./icons";

const MAX_HEIGHT_PX = 200;

/** Enter sends, Shift+Enter adds a line; nothing is sent while a reply runs or when empty.
 * Images and PDFs come by the attach button, by dropping them on the composer, or by pasting. */
export function Composer({ onSent }: { onSent?: () => void }) {
  const t = useT();
  const client = useChatClient();
  const canSend = useChatSelector(selectCanSend);
  const turnOpen = useChatSelector((s) => s.turnOpen);
  const online = useChatSelector((s) => s.connection === "open");
  const [text, setText] = useState("");
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [dragging, setDragging] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  // When a reply ends, hand the keyboard back to the composer if it was not elsewhere (and not
  // on load: on a phone that would pop the keyboard up unasked).
  const wasOpen = useRef(turnOpen);
  useEffect(() => {
    const ended = wasOpen.current && !turnOpen;
    wasOpen.current = turnOpen;
    const active = document.activeElement;
    const idle = active === document.body || (active !== null && !!formRef.current?.contains(active));
    if (ended && idle) ref.current?.focus();
  }, [turnOpen]);

  const addFiles = (chosen: Iterable<File>) => {
    void readFiles(chosen).then((read) => {
      if (read.length) setFiles((held) => [...held, ...read].slice(0, MAX_FILES));
    });
  };

  const removeFile = (index: number) => {
    setFiles((held) => held.filter((_, n) => n !== index));
  };

  const submit = () => {
    if ((!text.trim() && !files.length) || !client.sendMessage(text, files)) return;
    setText("");
    setFiles([]);
    onSent?.();
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    if (!turnOpen) addFiles(event.dataTransfer.files);
  };

  const onPaste = (event: ClipboardEvent) => {
    if (event.clipboardData.files.length) {
      event.preventDefault();
      addFiles(event.clipboardData.files);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  const placeholder = turnOpen
    ? t("composer.placeholderBusy")
    : online
      ? t("composer.placeholder")
      : t("composer.placeholderOffline");

  return (
    <form
      ref={formRef}
      onSubmit={onSubmit}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      data-testid="composer"
    >
      {files.length > 0 && (
        <div className="mb-2 flex flex-wrap justify-end gap-2" data-testid="pending-attachments">
          {files.map((file, index) => (
            <div key={file.url} className="relative">
              <AttachmentList files={[file]} />
              <button
                type="button"
                onClick={() => removeFile(index)}
                aria-label={t("composer.removeFile", { name: file.name })}
                title={t("composer.removeFile", { name: file.name })}
                className="absolute -top-2 -right-2 grid size-5 place-items-center rounded-full bg-zinc-900 text-[10px] text-white dark:bg-zinc-100 dark:text-zinc-900"
              >
                <CloseIcon />
              </button>
            </div>
          ))}
        </div>
      )}
      <div
        data-dragging={dragging}
        className="flex items-end gap-2 rounded-2xl border border-zinc-300 bg-white p-2 shadow-sm transition focus-within:border-indigo-400 focus-within:ring-4 focus-within:ring-indigo-500/10 data-[dragging=true]:border-indigo-500 data-[dragging=true]:ring-4 data-[dragging=true]:ring-indigo-500/20 dark:border-zinc-700 dark:bg-zinc-900 dark:focus-within:border-indigo-500"
      >
        <input
          ref={fileInput}
          type="file"
          multiple
          accept={ACCEPTED_TYPES.join(",")}
          hidden
          data-testid="attach-input"
          onChange={(event) => {
            if (event.target.files) addFiles(event.target.files);
            event.target.value = "";
          }}
        />
        <button
          type="button"
          onClick={() => fileInput.current?.click()}
          disabled={turnOpen || files.length >= MAX_FILES}
          data-testid="attach-button"
          aria-label={t("composer.attach")}
          title={t("composer.attach")}
          className="grid size-10 shrink-0 place-items-center rounded-xl text-lg text-zinc-500 transition hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-50 dark:text-zinc-400 dark:hover:bg-zinc-800"
        >
          <PaperclipIcon />
        </button>
        <label htmlFor="composer-input" className="sr-only">
          {t("composer.label")}
        </label>
        <textarea
          id="composer-input"
          ref={ref}
          rows={1}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          disabled={turnOpen}
          placeholder={placeholder}
          data-testid="composer-input"
          aria-describedby="composer-hint"
          className="max-h-[200px] min-h-10 flex-1 resize-none bg-transparent px-2 py-2 text-[15px] leading-6 placeholder:text-zinc-400 focus:outline-none disabled:cursor-not-allowed disabled:opacity-60 dark:placeholder:text-zinc-500"
        />
        {turnOpen ? (
          <button
            type="button"
            onClick={() => client.cancel()}
            data-testid="stop-button"
            aria-label={t("composer.stop")}
            title={t("composer.stop")}
            className="grid size-10 shrink-0 place-items-center rounded-xl bg-zinc-900 text-base text-white transition hover:bg-zinc-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:bg-zinc-100 dark:text-zinc-900 dark:hover:bg-white"
          >
            <StopIcon />
          </button>
        ) : (
          <button
            type="submit"
            disabled={!canSend || (!text.trim() && !files.length)}
            data-testid="send-button"
            aria-label={t("composer.send")}
            title={t("composer.send")}
            className="grid size-10 shrink-0 place-items-center rounded-xl bg-indigo-600 text-lg text-white shadow-sm shadow-indigo-600/30 transition hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:bg-zinc-200 disabled:text-zinc-400 disabled:shadow-none dark:disabled:bg-zinc-800 dark:disabled:text-zinc-600"
          >
            <SendIcon />
          </button>
        )}
      </div>
      <p id="composer-hint" className="mt-2 hidden text-center text-xs text-zinc-500 sm:block dark:text-zinc-500">
        {t("composer.hint")}
      </p>
    </form>
  );
}
