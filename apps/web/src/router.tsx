import type { JSX } from "solid-js";
import { createSignal, splitProps } from "solid-js";

/**
 * A deliberately small history router: the panel has eight screens and query-string filters, which
 * does not earn a routing dependency. The URL is the source of truth so reloads and links work.
 */
const [href, setHref] = createSignal(currentHref());

function currentHref(): string {
  return window.location.pathname + window.location.search;
}

window.addEventListener("popstate", function syncFromHistory() {
  setHref(currentHref());
});

export interface Location {
  pathname: string;
  query: URLSearchParams;
}

export function useLocation(): () => Location {
  return function location(): Location {
    const url = new URL(href(), window.location.origin);
    return { pathname: url.pathname, query: url.searchParams };
  };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === currentHref()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  setHref(currentHref());
  if (!options.replace) window.scrollTo(0, 0);
}

/** Rewrites query parameters of the current URL (empty values are removed). */
export function setQuery(patch: Record<string, string | number | null | undefined>): void {
  const url = new URL(currentHref(), window.location.origin);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === undefined || value === "") url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  }
  navigate(url.pathname + url.search, { replace: true });
}

/** Matches "/jobs/:id" style patterns; returns the params or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const names: string[] = [];
  const source = pattern.replace(/:([a-zA-Z]+)/g, (_m, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  const match = new RegExp(`^${source}/?$`).exec(pathname);
  if (!match) return null;
  const params: Record<string, string> = {};
  names.forEach((name, i) => {
    params[name] = decodeURIComponent(match[i + 1] ?? "");
  });
  return params;
}

export type LinkProps = JSX.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An <a> that navigates in place for plain left clicks and behaves normally otherwise. */
export function Link(props: LinkProps): JSX.Element {
  const [local, rest] = splitProps(props, ["href", "onClick"]);
  function handleClick(event: MouseEvent): void {
    if (typeof local.onClick === "function") (local.onClick as (e: MouseEvent) => void)(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    navigate(local.href);
  }
  return <a href={local.href} onClick={handleClick} {...rest} />;
}
