"use client";
import { useCallback, useEffect, useRef } from "react";

const NEAR_BOTTOM_PX = 80;

/**
 * Keep a scroll container at the bottom while its content grows, unless the person scrolled up
 * to read. Returns refs for the scroller and its content, and `stick()` to jump back down.
 */
export function useStickToBottom<S extends HTMLElement, C extends HTMLElement>() {
  const scrollRef = useRef<S | null>(null);
  const contentRef = useRef<C | null>(null);
  const pinned = useRef(true);

  const toBottom = useCallback(() => {
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  const stick = useCallback(() => {
    pinned.current = true;
    toBottom();
  }, [toBottom]);

  useEffect(() => {
    const scroller = scrollRef.current;
    const content = contentRef.current;
    if (!scroller || !content) return;
    const onScroll = () => {
      const gap = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
      pinned.current = gap < NEAR_BOTTOM_PX;
    };
    scroller.addEventListener("scroll", onScroll, { passive: true });
    if (typeof ResizeObserver === "undefined") {
      return () => scroller.removeEventListener("scroll", onScroll);
    }
    const observer = new ResizeObserver(() => {
      if (pinned.current) toBottom();
    });
    observer.observe(content);
    return () => {
      scroller.removeEventListener("scroll", onScroll);
      observer.disconnect();
    };
  }, [toBottom]);

  return { scrollRef, contentRef, stick };
}
