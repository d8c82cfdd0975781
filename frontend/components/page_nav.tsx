"use client";
import { pageHref, type PageName } from "@/lib/page_links";
import { usePageSearch } from "@/lib/use_page_search";
import { useT } from "@/lib/use_preferences";

const PAGES: readonly PageName[] = ["chat", "rules", "activity"];

/** The header's links to the chat, the Rules page and the Activity view. */
export function PageNav({ current, className = "flex" }: { current: PageName; className?: string }) {
  const t = useT();
  const search = usePageSearch();
  return (
    <nav aria-label="Gatehouse" className={`${className} items-center gap-1 text-sm`}>
      {PAGES.filter((page) => page !== current || current !== "chat").map((page) => (
        <a
          key={page}
          href={pageHref(page, search)}
          aria-current={page === current ? "page" : undefined}
          data-testid={`nav-${page}`}
          className={`rounded-lg px-2.5 py-1 font-medium transition hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:bg-zinc-800 ${
            page === current ? "text-indigo-700 dark:text-indigo-300" : "text-zinc-600 dark:text-zinc-300"
          }`}
        >
          {t(`nav.${page}`)}
        </a>
      ))}
    </nav>
  );
}
