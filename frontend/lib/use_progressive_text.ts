"use client";
// A streaming reply's text, caught up with in bounded steps.
//
// Parsing Markdown is the page's largest cost per chunk. When chunks come faster than the page
// renders (a burst after a stall, a fast model, a reply that mounts already long), everything
// that piled up would be parsed in one task and hold up input and scrolling for as long. Here
// the text on screen grows by at most STEP_CHARS per render, each step in a task of its own,
// so no task parses more than a few blocks, and each step is committed (a background render
// that new chunks keep interrupting would be thrown away and started again).
import { useEffect, useState } from "react";

/** How much more text one render may take on: a few paragraphs of Markdown (tuned with
 *  `make bench`: 4,096 let a task pass 50 ms now and then, 2,048 cost more CPU per chunk). */
export const STEP_CHARS = 3072;

/** The text to show next, on the way from `shown` to `text`. */
export function nextShown(shown: string, text: string, step: number = STEP_CHARS): string {
  const from = text.startsWith(shown) ? shown.length : 0;
  return text.length - from <= step ? text : text.slice(0, from + step);
}

/**
 * The part of `text` to render now. A text within one step of what is on screen is shown whole
 * at once (each chunk of a steady stream, a past message, a finished reply); a longer way is
 * gone one step per task. A text that was replaced, not grown, is shown whole when it is not
 * streaming, and from its start when it is.
 */
export function useProgressiveText(text: string, streaming: boolean, step: number = STEP_CHARS): string {
  const [shown, setShown] = useState(() => (streaming ? nextShown("", text, step) : text));
  const grown = text.startsWith(shown);
  const caughtUp = (!streaming && !grown) || text.length - (grown ? shown.length : 0) <= step;
  // State that follows a prop, set while rendering as React documents it.
  if (caughtUp && shown !== text) setShown(text);
  const current = caughtUp ? text : grown ? shown : nextShown("", text, step);
  useEffect(() => {
    if (current === text) return;
    const timer = setTimeout(() => setShown(nextShown(current, text, step)), 0);
    return () => clearTimeout(timer);
  }, [current, text, step]);
  return current;
}
