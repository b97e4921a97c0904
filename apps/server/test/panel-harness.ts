import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import type { Server } from "node:http";
import path from "node:path";
import { serve } from "@hono/node-server";
import type { NotificationWorker, ServiceContext, WorkerHandle } from "@imapferry/core";
import {
  createVault,
  ensureInitialAdmin,
  generateSecretKey,
  keyIdOf,
  resolveEngine,
  silentLogger,
  startNotificationWorker,
  startPlanScheduler,
  startWebhookWorker,
  startWorker,
  systemClock,
} from "@imapferry/core";
import type { TestDatabase } from "@imapferry/db/testing";
import { createTestDatabase } from "@imapferry/db/testing";
import type { ImapPair, TestBrowser } from "@imapferry/testkit";
import { freePort, launchBrowser, startImapPair } from "@imapferry/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, onTestFailed } from "vitest";
import { createHttpApp } from "../src/http/app.ts";

/** A playwright page, typed through the launcher (the server package does not depend on playwright). */
export type Page = Awaited<ReturnType<TestBrowser["newPage"]>>;

const WEB_DIR = path.resolve(import.meta.dirname, "../../web");
const WEB_DIST = path.join(WEB_DIR, "dist");
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../../test-output/screenshots");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The panel as production serves it: apps/web/dist. Built here when missing or older than its sources
 * (the server package does not depend on the web package, so turbo may not have built it).
 */
export async function ensurePanelBuilt(): Promise<string> {
  const index = path.join(WEB_DIST, "index.html");
  const stale = !existsSync(index) || statSync(index).mtimeMs < newestMtime(path.join(WEB_DIR, "src"));
  if (stale) {
    const vite = path.join(WEB_DIR, "node_modules/vite/bin/vite.js");
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [vite, "build", "--logLevel", "warn"], {
        cwd: WEB_DIR,
        stdio: "inherit",
      });
      child.once("error", reject);
      child.once("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`)),
      );
    });
  }
  return WEB_DIST;
}

export interface PanelStack {
  /** http://127.0.0.1:<port> */
  url: string;
  ctx: ServiceContext;
  adminPassword: string;
  imap: ImapPair;
  browser: TestBrowser;
  worker: WorkerHandle;
  close(): Promise<void>;
}

/**
 * Everything `imapferry start` runs, in this process: the HTTP app on a free port serving the built
 * panel, a worker with the built-in engine, a fresh migrated database, and a Dovecot pair; plus a
 * headless Chromium. Closed in reverse order.
 */
export async function startPanelStack(
  options: {
    /** Dovecots with a master passdb (see the testkit's addMasterUser). @defaultValue false */
    masterUsers?: boolean;
    /** Dovecots that take OAuth2 tokens, asking this introspection endpoint. @defaultValue none */
    oauth2IntrospectionUrl?: string;
    /** Send emails (credential links, notifications) to this SMTP port on loopback. @defaultValue none */
    smtpPort?: number;
  } = {},
): Promise<PanelStack> {
  const cleanups: Array<() => Promise<void>> = [];
  async function close(): Promise<void> {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
  try {
    const webRoot = await ensurePanelBuilt();
    // Pictures of this run only: a stale "failed-…" shot from an earlier run would mislead.
    await rm(SCREENSHOT_DIR, { recursive: true, force: true });
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const key = generateSecretKey();
    const keyId = keyIdOf(key);
    const ctx: ServiceContext = {
      db: database.db,
      pool: database.pool,
      vault: createVault({ keys: { [keyId]: key }, currentKeyId: keyId }),
      log: silentLogger,
      clock: systemClock,
    };
    const imap = await startImapPair({
      masterUsers: options.masterUsers ?? false,
      ...(options.oauth2IntrospectionUrl ? { oauth2IntrospectionUrl: options.oauth2IntrospectionUrl } : {}),
    });
    cleanups.push(() => imap.stop());

    // The port is chosen first so the public URL (redirect URIs, links in emails) is the real one.
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const smtp = options.smtpPort ? { url: `smtp://127.0.0.1:${options.smtpPort}` } : undefined;
    const notifyFrom = "imapferry <ferry@panel.example>";
    const http = await createHttpApp({
      runtime: {
        ctx,
        config: { publicUrl: url, webRoot, ...(smtp ? { smtp, notifyFrom } : {}) },
        engine: { kind: "builtin", version: null },
        databaseKind: "external",
      },
      webRoot,
      loginRateLimits: { addressFailures: 1000, userFailures: 1000 },
    });
    cleanups.push(() => http.close());
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: http.app.fetch, port, hostname: "127.0.0.1" }, () =>
        resolve(s as Server),
      ) as Server;
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );

    const engine = await resolveEngine({ engine: "builtin" });
    const worker = await startWorker({ ctx, engine, concurrency: 4, heartbeatMs: 1000 });
    cleanups.push(() => worker.stop({ handBack: false }));
    const plans = await startPlanScheduler(ctx, { pollIntervalMs: 200 });
    cleanups.push(() => plans.stop());
    // Emails and credential links' expiries, as `imapferry start` runs them (no-ops without SMTP).
    const notifications: NotificationWorker = await startNotificationWorker({
      ctx,
      smtp,
      from: notifyFrom,
      publicUrl: url,
      pollInterval: 200,
    });
    cleanups.push(() => notifications.stop());
    const webhooks = await startWebhookWorker({ ctx, retryBaseMs: 200, pollInterval: 200 });
    cleanups.push(() => webhooks.stop());

    const adminPassword = await ensureInitialAdmin(ctx);
    if (!adminPassword) throw new Error("A fresh database must get an initial admin.");

    const browser = await launchBrowser();
    cleanups.push(() => browser.close());
    return { url, ctx, adminPassword, imap, browser, worker, close };
  } catch (e: unknown) {
    await close();
    throw e;
  }
}

/** Signs in as the stack's admin on the login page and waits for the jobs list. */
export async function signInAsAdmin(page: Page, stack: PanelStack): Promise<void> {
  await page.goto(`${stack.url}/login`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(stack.adminPassword);
  await page.getByLabel("Password").press("Enter");
  await page.waitForURL(/\/jobs$/);
}

/**
 * A page the size of an operator's laptop screen, with motion reduced so that a click or a screenshot
 * never lands in the middle of a transition; its steps wait up to two minutes (a loaded machine is slow).
 */
export async function openDesktopPage(stack: PanelStack): Promise<Page> {
  const page = await stack.browser.newPage({ width: 1280, height: 900 });
  page.setDefaultTimeout(120_000);
  await page.emulateMedia({ reducedMotion: "reduce" });
  return page;
}

/**
 * What every panel test file checks around each test: a failing test leaves a picture of what the
 * browser showed, and a test fails when the page reported an error.
 */
export function checkEachPanelTest(current: () => { stack: PanelStack; page: Page | undefined }): void {
  screenshotOnFailure(() => current().page);
  afterEach(() => {
    expectNoConsoleErrors(current().stack);
  });
}

/** What a panel test file runs around its tests, beyond the stack and page every file has. */
export interface PanelFileSetUp {
  /** Starts the stack, and whatever the file runs beside it. @defaultValue startPanelStack() */
  start?: () => Promise<PanelStack>;
  /** What the file's tests share (users, mailboxes), once the stack is up and before the page opens. */
  prepare?: (stack: PanelStack) => Promise<void>;
  /** Stops what `start` ran beside the stack, after the stack has closed. */
  stop?: () => Promise<void>;
}

/**
 * A panel test file's stack and desktop page: started before its first test and handed to `ready`,
 * each test checked as checkEachPanelTest does, and closed after its last test.
 */
export function usePanelStack(
  ready: (stack: PanelStack, page: Page) => void,
  setUp: PanelFileSetUp = {},
): void {
  let stack: PanelStack | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    stack = await (setUp.start ?? startPanelStack)();
    await setUp.prepare?.(stack);
    page = await openDesktopPage(stack);
    ready(stack, page);
  });
  checkEachPanelTest(() => ({ stack: stack!, page }));
  afterAll(async () => {
    await stack?.close();
    await setUp.stop?.();
  });
}

/**
 * Adds a server on loopback with the Servers page's "Add server" dialog (the page must be open),
 * trusting its self-signed certificate; `fill` completes the dialog's other sections before it is sent.
 */
export async function addServerInPanel(
  page: Page,
  server: { name: string; port: number; security?: "tls" | "starttls" | "none" },
  fill?: (dialog: ReturnType<Page["getByRole"]>) => Promise<void>,
): Promise<void> {
  await page.getByRole("button", { name: "Add server" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Add server" });
  await dialog.getByLabel("Name").fill(server.name);
  await dialog.getByLabel("Host").fill("127.0.0.1");
  // Security first: choosing it moves a conventional port to its own.
  if (server.security) await dialog.getByLabel("Security").selectOption(server.security);
  await dialog.getByLabel("Port").fill(String(server.port));
  await dialog.getByLabel("Accept a self-signed certificate").check();
  await fill?.(dialog);
  await dialog.getByRole("button", { name: "Add server" }).click();
  await dialog.waitFor({ state: "detached" });
  await page.locator(`tr[data-server="${server.name}"]`).waitFor();
}

/** Opens the Jobs page's "New migration job" dialog, with its Source and Destination sections. */
export async function openNewJobDialog(page: Page, stack: PanelStack) {
  await page.goto(`${stack.url}/jobs`);
  await page.getByRole("button", { name: "New job" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New migration job" });
  return {
    dialog,
    source: dialog.getByRole("group", { name: "Source" }),
    destination: dialog.getByRole("group", { name: "Destination" }),
  };
}

/** Saves a full-page screenshot as test-output/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${width}.png`), fullPage: true });
}

/**
 * Fails the test when a page reported an error: console.error, an uncaught exception, or a request
 * that failed for a reason other than an answer the panel handles (a 4xx of the API, such as a
 * rejected login or an unknown job, is part of a flow; a 5xx or a network failure is not).
 */
export function expectNoConsoleErrors(stack: PanelStack): void {
  const errors = stack.browser
    .takeConsoleErrors()
    .filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text));
  if (errors.length > 0) throw new Error(`The browser console reported errors:\n${errors.join("\n")}`);
}

/**
 * Polls `read` (every 100 ms) until `accept` likes what it returns, then returns that; the deadline is
 * generous (a loaded machine is slow, not wrong). The error names what was awaited and the last value.
 */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 300_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const shown =
    typeof last === "string"
      ? `${last.length} characters ending ${JSON.stringify(last.slice(-200))}`
      : JSON.stringify(last);
  throw new Error(`Gave up waiting for ${what}; last value: ${shown}`);
}

/** Registers, for each test, a screenshot of the page (as it is then) if the test fails. */
export function screenshotOnFailure(currentPage: () => Page | undefined): void {
  beforeEach((context) => {
    onTestFailed(async () => {
      const page = currentPage();
      if (!page) return;
      await screenshot(page, `failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(
        () => undefined,
      );
    });
  });
}
