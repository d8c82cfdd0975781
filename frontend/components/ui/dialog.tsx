"use client";
// The one modal dialog of the UI, on Radix's Dialog: focus moves in and stays in, the page
// behind is hidden from assistive tech and unreachable, Esc is the caller's, and focus goes
// back where the caller says (else where it was). The house's look: a panel with a header
// (icon, title, description and what follows it), the caller's body and a footer of actions.
// ModalFrame is that behaviour with no look of its own: Dialog and Sheet (ui/sheet.tsx) are it.
import * as RadixDialog from "@radix-ui/react-dialog";
import { useRef, type KeyboardEvent, type ReactNode } from "react";

/** What every modal of the UI is given: how it closes, where focus goes, how it is found. */
export interface ModalProps {
  /** Esc: what the dialog's harmless choice does (cancel, deny, close). */
  onEscape: () => void;
  /** "alertdialog" for a question about something that cannot be taken back. */
  role?: "dialog" | "alertdialog";
  /** The element to focus first; else the panel itself, so no key lands on a button. */
  initialFocus?: () => HTMLElement | null;
  /** Where focus goes when the dialog closes (else back where it was). */
  returnFocus?: () => HTMLElement | null;
  testId?: string;
  id?: string;
  onKeyDown?: (event: KeyboardEvent<HTMLDivElement>) => void;
}

/** The panel's surface, whatever its size and place. */
const SURFACE = "flex flex-col overflow-hidden bg-white shadow-2xl outline-none dark:bg-zinc-900";

/**
 * Radix's modal Dialog with the house's behaviour; the caller gives the overlay's and the
 * panel's place and size, a RadixDialog.Title inside, and a Description if `described`.
 */
export function ModalFrame(
  props: ModalProps & { described: boolean; overlayClass: string; panelClass: string; children: ReactNode },
) {
  const { onEscape, role = "dialog", initialFocus, returnFocus } = props;
  // Radix gives focus back only to a Dialog.Trigger, and none is used: keep where it was.
  const opener = useRef<HTMLElement | null>(null);
  return (
    <RadixDialog.Root open onOpenChange={(open) => open || onEscape()}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className={`fixed inset-0 z-50 flex ${props.overlayClass}`}>
          <RadixDialog.Content
            role={role}
            aria-modal="true"
            id={props.id}
            data-testid={props.testId}
            {...(props.described ? {} : { "aria-describedby": undefined })}
            onKeyDown={props.onKeyDown}
            onPointerDownOutside={(event) => event.preventDefault()} // a stray click decides nothing
            onOpenAutoFocus={(event) => {
              event.preventDefault();
              opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
              const first = initialFocus?.() ?? (event.currentTarget instanceof HTMLElement ? event.currentTarget : null);
              first?.focus();
            }}
            onCloseAutoFocus={(event) => {
              const back = returnFocus?.() ?? opener.current;
              if (back?.isConnected) {
                event.preventDefault();
                back.focus();
              }
            }}
            className={`${SURFACE} ${props.panelClass}`}
          >
            {props.children}
          </RadixDialog.Content>
        </RadixDialog.Overlay>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

export interface DialogProps extends ModalProps {
  title: ReactNode;
  description?: ReactNode;
  icon?: ReactNode;
  /** Under the title and description (badges). */
  headerExtra?: ReactNode;
  footer: ReactNode;
  children?: ReactNode;
  /** "top": near the top of a large screen (a dialog whose height changes as one reads). */
  placement?: "center" | "top";
  /** The panel's width and height limits. */
  size?: string;
}

const PLACEMENT = {
  center: "sm:items-center sm:p-6",
  top: "sm:items-start sm:px-6 sm:pt-16",
};

export function Dialog(props: DialogProps) {
  const { title, description, icon } = props;
  return (
    <ModalFrame
      {...props}
      described={Boolean(description)}
      overlayClass={`items-end justify-center bg-zinc-950/30 dark:bg-black/50 ${PLACEMENT[props.placement ?? "center"]}`}
      panelClass={`w-full rounded-t-2xl ring-1 ring-zinc-900/10 sm:rounded-2xl dark:ring-white/10 ${props.size ?? "max-w-md"}`}
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
    </ModalFrame>
  );
}
