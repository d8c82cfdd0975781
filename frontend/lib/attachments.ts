// Files the person attaches: read in the browser as base64 for the `user_message` frame. The
// server reads each file's type from its bytes and checks its size; the browser only filters
// what it offers (README, Attachments).

/** What the composer holds until the message is sent. */
export interface PendingFile {
  name: string;
  mediaType: string;
  bytes: number;
  /** base64, as the frame carries it. */
  data: string;
  /** An object URL for the thumbnail. */
  url: string;
}

/** An attachment drawn in a bubble: `url` is an object URL (sent from here) or the server's path. */
export interface ChatAttachment {
  name: string;
  mediaType: string;
  bytes: number;
  url: string;
}

export const ACCEPTED_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"];
export const MAX_FILES = 5;

export function isImage(mediaType: string): boolean {
  return mediaType.startsWith("image/");
}

function base64Of(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error("read failed"));
    reader.readAsDataURL(file);
  });
}

/** The files among `files` of an accepted type, read for sending. */
export async function readFiles(files: Iterable<File>): Promise<PendingFile[]> {
  const accepted = [...files].filter((file) => ACCEPTED_TYPES.includes(file.type));
  return Promise.all(
    accepted.map(async (file) => ({
      name: file.name || file.type,
      mediaType: file.type,
      bytes: file.size,
      data: await base64Of(file),
      url: URL.createObjectURL(file),
    })),
  );
}

/** A server path (`/api/…`) on the backend's origin, with the page's token when it has one. */
export function resolveUrl(url: string, apiBase: string, token: string | null): string {
  if (!url.startsWith("/")) return url; // an object URL
  return `${apiBase}${url}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}
