import { Fragment } from "react";
import { revealHidden } from "@/lib/visible_text";

/**
 * A path in full, left to right: each segment isolated (right-to-left names cannot reorder
 * their neighbours), hidden characters shown as marks, wrapped anywhere and never cut short.
 */
export function VisiblePath({ path }: { path: string }) {
  const segments = path.split("/");
  return (
    <bdi dir="ltr" className="whitespace-pre-wrap [overflow-wrap:anywhere]">
      {segments.map((segment, index) => (
        <Fragment key={index}>
          {index > 0 && "/"}
          <bdi>
            {revealHidden(segment).map((part, at) =>
              "text" in part ? (
                <Fragment key={at}>{part.text}</Fragment>
              ) : (
                <span
                  key={at}
                  data-testid="hidden-char"
                  title={part.code}
                  className="mx-px rounded bg-rose-100 px-0.5 text-[11px] text-rose-800 dark:bg-rose-950 dark:text-rose-200"
                >
                  {part.code}
                </span>
              ),
            )}
          </bdi>
        </Fragment>
      ))}
    </bdi>
  );
}
