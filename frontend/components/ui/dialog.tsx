"use client";
// The one modal dialog of the UI, on Radix's Dialog: focus moves in and stays in, the page
// behind is hidden from assistive tech and unreachable, Esc is the caller's, and focus goes
// back where the caller says (else where it was). The house's look: a panel with a header
// (icon, title, description and what follows it), the caller's body and a footer of actions.
import * as RadixDialog from "@radix-ui/react-dialog";
import type { KeyboardEvent, ReactNode } from "react";

export interface DialogProps {
  title: ReactNode;
  description?: ReactNode;
  icon?: ReactNode;
  /** Under the title and description (badges). */
  headerExtra?: ReactNode;
  /** Esc: what the dialog's harmless choice does (cancel, deny). */
  onEscape: () => void;
  /** "alertdialog" for a question about something that cannot be taken back. */
  role?: "dialog" | "alertdialog";
  /** The element to focus first; else the panel itself, so no key lands on a button. */
  initialFocus?: () => HTMLElement | null;
  /** Where focus goes when the dialog closes (else back where it was). */
  returnFocus?: () => HTMLElement | null;
  footer: ReactNode;
  children?: ReactNode;
  testId?: string;
  id?: string;
  /** "top": near the top of a large screen (a dialog whose height changes as one reads). */
  placement?: "center" | "top";
  /** The panel's width and height limits. */
  size?: string;
  onKeyDown?: (event: KeyboardEvent<HTMLDivElement>) => void;
}

const PLACEMENT = {
  center: "sm:items-center sm:p-6",
  top: "sm:items-start sm:px-6 sm:pt-16",
};

export function Dialog(props: DialogProps) {
  const { title, description, icon, onEscape, role = "dialog", initialFocus, returnFocus } = props;
  return (
    <RadixDialog.Root open onOpenChange={(open) => open || onEscape()}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay
          className={`fixed inset-0 z-50 flex items-end justify-center bg-zinc-950/30 dark:bg-black/50 ${PLACEMENT[props.placement ?? "center"]}`}
        >
          <RadixDialog.Content
            role={role}
            aria-modal="true"
            id={props.id}
            data-testid={props.testId}
            {...(description ? {} : { "aria-describedby": undefined })}
            onKeyDown={props.onKeyDown}
            onPointerDownOutside={(event) => event.preventDefault()} // a stray click decides nothing
            onOpenAutoFocus={(event) => {
              event.preventDefault();
              const first = initialFocus?.() ?? (event.currentTarget instanceof HTMLElement ? event.currentTarget : null);
              first?.focus();
            }}
            onCloseAutoFocus={(event) => {
              const back = returnFocus?.();
              if (back?.isConnected) {
                event.preventDefault();
                back.focus();
              }
            }}
            className={`flex w-full flex-col overflow-hidden rounded-t-2xl bg-white shadow-2xl ring-1 ring-zinc-900/10 outline-none sm:rounded-2xl dark:bg-zinc-900 dark:ring-white/10 ${props.size ?? "max-w-md"}`}
          >
            <div className="flex items-start gap-4 px-6 pt-5 pb-3">
              {icon}
              <div className="min-w-0">
                <RadixDialog.Title className="text-lg font-semibold tracking-tight">{title}</RadixDialog.Title>
                {description && (
                  <RadixDialog.Description asChild>
                    <div className="mt-1 text-sm break-words text-zinc-600 dark:text-zinc-400">{description}</div>
                  </RadixDialog.Description>
                )}
                {props.headerExtra}
              </div>
            </div>
            {props.children}
            <div className="flex flex-col-reverse gap-3 border-t border-zinc-100 bg-zinc-50/80 px-6 py-4 sm:flex-row sm:items-center sm:justify-end dark:border-zinc-800 dark:bg-zinc-950/40">
              {props.footer}
            </div>
          </RadixDialog.Content>
        </RadixDialog.Overlay>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}
