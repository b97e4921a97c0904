import type { JSX } from "solid-js";
import { createEffect, createSignal, Match, onCleanup, onMount, Show, Switch } from "solid-js";
import { Dynamic } from "solid-js/web";
import { AuditPage } from "./pages/audit.tsx";
import { JobDetailPage } from "./pages/jobs/job-detail-page.tsx";
import { JobsPage } from "./pages/jobs/jobs-page.tsx";
import { LoginPage } from "./pages/login.tsx";
import { NotFoundPage } from "./pages/not-found.tsx";
import { ServersPage } from "./pages/servers/servers-page.tsx";
import { SettingsPage } from "./pages/settings/settings-page.tsx";
import { WebhooksPage } from "./pages/webhooks/webhooks-page.tsx";
import { WorkersPage } from "./pages/workers.tsx";
import { Link, matchPath, navigate, useLocation } from "./router.tsx";
import { loadSession, logOut, user } from "./session.ts";
import { BrandMark } from "./ui/brand-mark.tsx";
import type { IconName } from "./ui/icons.tsx";
import { Icon } from "./ui/icons.tsx";
import { ErrorState, Loading } from "./ui/states.tsx";
import { Toaster } from "./ui/toasts.tsx";

const NAV: { href: string; label: string; icon: IconName }[] = [
  { href: "/jobs", label: "Jobs", icon: "jobs" },
  { href: "/servers", label: "Servers", icon: "servers" },
  { href: "/workers", label: "Workers", icon: "workers" },
  { href: "/settings", label: "Settings", icon: "settings" },
  { href: "/audit", label: "Audit log", icon: "file" },
  { href: "/webhooks", label: "Webhooks", icon: "bell" },
];

const TITLES: Record<string, string> = {
  "/jobs": "Jobs",
  "/servers": "Servers",
  "/workers": "Workers",
  "/settings": "Settings",
  "/audit": "Audit log",
  "/webhooks": "Webhooks",
};

export function App(): JSX.Element {
  const location = useLocation();
  const [bootError, setBootError] = createSignal<unknown>(null);

  async function boot(): Promise<void> {
    setBootError(null);
    try {
      await loadSession();
    } catch (e: unknown) {
      setBootError(e);
    }
  }
  onMount(() => void boot());

  // Logged-out visitors land on /login; after logging in they go back where they were heading.
  createEffect(function guardRoutes() {
    const u = user();
    const path = location().pathname;
    if (u === null && path !== "/login") {
      const next = path === "/" ? "" : `?next=${encodeURIComponent(path + window.location.search)}`;
      navigate(`/login${next}`, { replace: true });
    } else if (u && (path === "/login" || path === "/")) {
      const next = location().query.get("next");
      navigate(next?.startsWith("/") ? next : "/jobs", { replace: true });
    }
  });

  createEffect(function setDocumentTitle() {
    const path = location().pathname;
    const section = Object.keys(TITLES).find((p) => path.startsWith(p));
    document.title = section ? `${TITLES[section]} · imapferry` : "imapferry";
  });

  return (
    <>
      <Switch>
        <Match when={bootError()}>
          <div class="login-page">
            <div class="card login-card">
              <ErrorState title="The panel could not start" error={bootError()} onRetry={() => void boot()} />
            </div>
          </div>
        </Match>
        <Match when={user() === undefined}>
          <Loading label="Starting…" />
        </Match>
        <Match when={user() === null}>
          <LoginPage />
        </Match>
        <Match when={user()}>
          <Shell />
        </Match>
      </Switch>
      <Toaster />
    </>
  );
}

function Shell(): JSX.Element {
  const location = useLocation();
  const [menuOpen, setMenuOpen] = createSignal(false);

  createEffect(function closeMenuOnNavigate() {
    location();
    setMenuOpen(false);
  });
  function closeMenuOnEscape(event: KeyboardEvent): void {
    if (event.key === "Escape" && menuOpen()) setMenuOpen(false);
  }
  window.addEventListener("keydown", closeMenuOnEscape);
  onCleanup(() => window.removeEventListener("keydown", closeMenuOnEscape));

  function page(): {
    component: (props: { params: Record<string, string> }) => JSX.Element;
    params: Record<string, string>;
  } {
    const path = location().pathname;
    const detail = matchPath("/jobs/:id", path);
    if (detail) return { component: JobDetailPage, params: detail };
    if (path === "/" || matchPath("/jobs", path)) return { component: JobsPage, params: {} };
    if (matchPath("/servers", path)) return { component: ServersPage, params: {} };
    if (matchPath("/workers", path)) return { component: WorkersPage, params: {} };
    if (matchPath("/settings", path)) return { component: SettingsPage, params: {} };
    if (matchPath("/audit", path)) return { component: AuditPage, params: {} };
    if (matchPath("/webhooks", path)) return { component: WebhooksPage, params: {} };
    return { component: NotFoundPage, params: {} };
  }

  function isCurrent(href: string): boolean {
    return location().pathname.startsWith(href);
  }

  async function handleLogout(): Promise<void> {
    await logOut();
  }

  return (
    <div class="shell" data-menu={menuOpen() ? "open" : "closed"}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="btn btn-ghost btn-icon"
          aria-label="Open menu"
          aria-expanded={menuOpen()}
          onClick={() => setMenuOpen(true)}
        >
          <Icon name="menu" />
        </button>
        <BrandLink />
      </header>
      <Show when={menuOpen()}>
        <button
          type="button"
          class="scrim"
          aria-label="Close menu"
          tabindex="-1"
          onClick={() => setMenuOpen(false)}
        />
      </Show>
      <aside class="sidebar" aria-label="Main navigation">
        <BrandLink />
        <nav class="nav">
          {NAV.map((item) => (
            <Link href={item.href} aria-current={isCurrent(item.href) ? "page" : undefined}>
              <Icon name={item.icon} />
              {item.label}
            </Link>
          ))}
        </nav>
        <div class="sidebar-foot">
          <span class="who" title="Signed in">
            {user()?.username}
          </span>
          <button type="button" class="btn btn-ghost btn-sm" onClick={() => void handleLogout()}>
            <Icon name="logout" /> Log out
          </button>
        </div>
      </aside>
      <main class="main" id="main" tabindex="-1">
        <Dynamic component={page().component} params={page().params} />
      </main>
    </div>
  );
}

function BrandLink(): JSX.Element {
  return (
    <Link href="/jobs" class="brand">
      <BrandMark />
      imapferry
    </Link>
  );
}
