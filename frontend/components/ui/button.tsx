"use client";
// The one button of the UI: its look by `variant` and `size`, everything else a <button>'s.
import { forwardRef, type ButtonHTMLAttributes } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger" | "quiet";
export type ButtonSize = "md" | "sm" | "xs";

const BASE =
  "transition focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed";

const SIZES: Record<ButtonSize, string> = {
  md: "h-10 rounded-lg px-4 text-sm font-semibold",
  sm: "h-9 rounded-lg px-4 text-sm font-semibold",
  xs: "rounded-md px-2.5 py-1 text-xs font-medium",
};

const VARIANTS: Record<ButtonVariant, string> = {
  primary:
    "bg-indigo-600 text-white shadow-sm shadow-indigo-600/30 hover:bg-indigo-500 disabled:bg-zinc-300 disabled:shadow-none dark:disabled:bg-zinc-700",
  secondary:
    "border border-zinc-300 bg-white text-zinc-800 shadow-xs hover:bg-zinc-50 disabled:opacity-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800",
  danger:
    "bg-rose-600 text-white shadow-sm shadow-rose-600/30 hover:bg-rose-500 focus-visible:outline-rose-500 disabled:opacity-70",
  quiet:
    "border border-zinc-300 text-zinc-700 hover:bg-zinc-100 disabled:opacity-50 dark:border-zinc-700 dark:text-zinc-200 dark:hover:bg-zinc-800",
};

/** The classes of a button's look, for a link that must look like one (a download). */
export function buttonClass(variant: ButtonVariant = "secondary", size: ButtonSize = "md"): string {
  return `${BASE} ${SIZES[size]} ${VARIANTS[variant]}`;
}

type Props = ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; size?: ButtonSize };

export const Button = forwardRef<HTMLButtonElement, Props>(function Button(
  { variant = "secondary", size = "md", className = "", type = "button", ...props },
  ref,
) {
  return <button ref={ref} type={type} className={`${buttonClass(variant, size)} ${className}`} {...props} />;
});
