"use client";
import { useCallback, useSyncExternalStore } from "react";

/** Whether a CSS media query matches now (false where matchMedia is missing, and prerendered). */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (listener: () => void) => {
      if (typeof window === "undefined" || typeof window.matchMedia !== "function") return () => {};
      const list = window.matchMedia(query);
      list.addEventListener("change", listener);
      return () => list.removeEventListener("change", listener);
    },
    [query],
  );
  const get = () =>
    typeof window !== "undefined" && typeof window.matchMedia === "function"
      ? window.matchMedia(query).matches
      : false;
  return useSyncExternalStore(subscribe, get, () => false);
}

/** Tailwind's `lg` breakpoint: from here on the sidebar stays open beside the chat. */
export const WIDE_QUERY = "(min-width: 1024px)";
