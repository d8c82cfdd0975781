"use client";
// A sheet: a modal over nearly the whole page for a tool one works in (the Files panel), with
// a title bar and a close button; the caller's body fills the rest. It is ModalFrame, as Dialog
// is: focus moves in and stays in, Esc and the close button close, focus goes back.
import * as RadixDialog from "@radix-ui/react-dialog";
import type { ReactNode } from "react";
import { CloseIcon } from "../icons";
import { ModalFrame, type ModalProps } from "./dialog";

export interface SheetProps extends Omit<ModalProps, "role"> {
  title: ReactNode;
  /** The close button's accessible name. */
  closeLabel: string;
  children: ReactNode;
}

export function Sheet({ title, closeLabel, children, ...props }: SheetProps) {
  return (
    <ModalFrame
      {...props}
      described={false}
      overlayClass="bg-zinc-950/40 p-4 dark:bg-black/60"
      panelClass="mx-auto h-full w-full max-w-6xl rounded-2xl"
    >
      <header className="flex items-center gap-3 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <RadixDialog.Title className="flex-1 text-[15px] font-semibold">{title}</RadixDialog.Title>
        <RadixDialog.Close
          aria-label={closeLabel}
          className="grid size-8 place-items-center rounded-lg hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          <CloseIcon />
        </RadixDialog.Close>
      </header>
      {children}
    </ModalFrame>
  );
}
