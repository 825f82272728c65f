// Two pages, in the URL: the list at / (its tab and filters in the query string) and a job at
// /jobs/N (with `from`, the list's query string, for the way back).
import { Store, useStore } from "./store";

const location = new Store(window.location.href);
window.addEventListener("popstate", () => location.set(window.location.href));

export function useLocation(): URL {
  return new URL(useStore(location));
}

/** Go to `href` (same origin); `replace` keeps the history entry (typing in a search box). */
export function navigate(href: string, { replace = false } = {}): void {
  const url = new URL(href, window.location.href);
  if (url.href === window.location.href) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  location.set(url.href);
  if (!replace) window.scrollTo(0, 0);
}

/** A click on an in-page link, handled here unless the browser should (new tab, etc.). */
export function followLink(event: React.MouseEvent<HTMLAnchorElement>): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  navigate(event.currentTarget.href);
}

export type Route = { page: "jobs"; params: URLSearchParams } | { page: "job"; number: number; from: string };

export function route(url: URL): Route | null {
  if (url.pathname === "/") return { page: "jobs", params: url.searchParams };
  const match = /^\/jobs\/(\d+)$/.exec(url.pathname);
  if (match?.[1] === undefined) return null;
  return { page: "job", number: Number(match[1]), from: url.searchParams.get("from") ?? "" };
}
