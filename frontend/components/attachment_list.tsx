"use client";
import { isImage, resolveUrl, type ChatAttachment } from "@/lib/attachments";
import { attachmentBase, attachmentToken } from "@/lib/browser_client";
import { formatBytes } from "@/lib/format";
import { useLocale, useT } from "@/lib/use_preferences";
import { FileIcon } from "./icons";

/** A message's files: images as thumbnails, PDFs as chips; each opens in a new tab. */
export function AttachmentList({ files }: { files: ChatAttachment[] }) {
  const t = useT();
  const locale = useLocale();
  return (
    <ul className="flex flex-wrap justify-end gap-2" data-testid="attachments">
      {files.map((file, index) => {
        const href = resolveUrl(file.url, attachmentBase(), attachmentToken());
        const label = t("attachment.open", { name: file.name });
        return (
          <li key={index}>
            <a href={href} target="_blank" rel="noopener noreferrer" title={label} aria-label={label}>
              {isImage(file.mediaType) ? (
                // eslint-disable-next-line @next/next/no-img-element -- a user's file, not a static asset
                <img
                  src={href}
                  alt={file.name}
                  data-testid="attachment-thumbnail"
                  className="h-24 max-w-48 rounded-xl object-cover ring-1 ring-zinc-200 dark:ring-zinc-700"
                />
              ) : (
                <span
                  data-testid="attachment-chip"
                  className="inline-flex items-center gap-1.5 rounded-lg bg-zinc-100 px-2.5 py-1.5 text-xs text-zinc-700 ring-1 ring-zinc-200 dark:bg-zinc-800 dark:text-zinc-200 dark:ring-zinc-700"
                >
                  <FileIcon />
                  <span className="max-w-40 truncate">{file.name}</span>
                  <span className="text-zinc-400">{formatBytes(file.bytes, locale)}</span>
                </span>
              )}
            </a>
          </li>
        );
      })}
    </ul>
  );
}
