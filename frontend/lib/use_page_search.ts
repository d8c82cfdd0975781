import { useSyncExternalStore } from "react";

const never = () => () => {};

/** The page's query string (`?token=…&rule=…`): "" while prerendering, the real one in the browser. */
export function usePageSearch(): string {
  return useSyncExternalStore(never, () => window.location.search, () => "");
}

/** False while prerendering and hydrating, true once in the browser (URLs built from the page). */
export function useHydrated(): boolean {
  return useSyncExternalStore(never, () => true, () => false);
}
