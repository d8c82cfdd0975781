"use client";
// The one button of the UI: its look by `variant`, everything else as a <button>'s.
import { forwardRef, type ButtonHTMLAttributes } from "react";

export type ButtonVariant = "primary" | "secondary" | "danger";

const BASE =
  "h-10 rounded-lg px-4 text-sm font-semibold transition focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed";

const VARIANTS: Record<ButtonVariant, string> = {
  primary:
    "bg-indigo-600 px-5 text-white shadow-sm shadow-indigo-600/30 hover:bg-indigo-500 focus-visible:outline-indigo-500 disabled:bg-zinc-300 disabled:shadow-none dark:disabled:bg-zinc-700",
  secondary:
    "border border-zinc-300 bg-white text-zinc-800 shadow-xs hover:bg-zinc-50 focus-visible:outline-indigo-500 disabled:opacity-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800",
  danger:
    "bg-rose-600 px-5 text-white shadow-sm shadow-rose-600/30 hover:bg-rose-500 focus-visible:outline-rose-500 disabled:opacity-70",
};

export const Button = forwardRef<HTMLButtonElement, ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant }>(
  function Button({ variant = "secondary", className = "", type = "button", ...props }, ref) {
    return <button ref={ref} type={type} className={`${BASE} ${VARIANTS[variant]} ${className}`} {...props} />;
  },
);
