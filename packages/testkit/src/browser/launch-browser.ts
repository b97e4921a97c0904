import { access, constants } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";
import { installDebianPackage } from "../debian-package.ts";

/** Debian's Chromium: playwright-core drives it as is, no browser download. */
export const DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a quiet, reproducible headless run: no sandbox (tests run as root in CI), no GPU, and
 * nothing that phones home or updates itself while a test runs.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
] as const;

export interface LaunchBrowserOptions {
  /** @defaultValue "/usr/bin/chromium" */
  executablePath?: string;
  /** @defaultValue true */
  headless?: boolean;
}

export interface NewPageOptions {
  /** @defaultValue 1280 */
  width?: number;
  /** @defaultValue 900 */
  height?: number;
  /** Where relative `page.goto("/jobs")` calls resolve. */
  baseURL?: string;
  /** Folder downloads are accepted into (playwright keeps them in a temp dir otherwise). */
  acceptDownloads?: boolean;
  /** The browser's language, as `navigator.language` and Intl see it. @defaultValue Chromium's own (en-US) */
  locale?: string;
  /** The browser's time zone (IANA name). @defaultValue the machine's */
  timezoneId?: string;
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A page in a fresh context (own cookies and storage): one context per simulated person. */
  newPage(options?: NewPageOptions): Promise<Page>;
  /**
   * What the pages reported as errors since the last call (console.error, uncaught exceptions,
   * failed requests the browser logs), each prefixed with the page's address; the list is emptied.
   */
  takeConsoleErrors(): string[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

let chromiumInstalled: boolean | undefined;
/** Debian's package, once per process (several test files may launch a browser). */
function installChromiumOnce(): boolean {
  chromiumInstalled ??= installDebianPackage("chromium");
  return chromiumInstalled;
}

/**
 * Starts headless Chromium for a browser test. Each launch gets a fresh, throwaway profile
 * (user-data-dir) that playwright deletes on close, so no state leaks between test files.
 */
export async function launchBrowser(options: LaunchBrowserOptions = {}): Promise<TestBrowser> {
  const executablePath = options.executablePath ?? DEFAULT_CHROMIUM_PATH;
  if (!(await isExecutable(executablePath))) {
    // Debian's package provides the default path only.
    const installed = executablePath === DEFAULT_CHROMIUM_PATH && installChromiumOnce();
    if (!installed || !(await isExecutable(executablePath))) {
      throw new Error(
        `Chromium was not found at ${executablePath}: install it with \`apt-get install chromium\` (as root).`,
      );
    }
  }
  const browser = await chromium.launch({
    executablePath,
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS],
  });
  const contexts = new Set<BrowserContext>();
  let consoleErrors: string[] = [];

  function collectErrorsOf(page: Page): void {
    page.on("console", function recordConsoleError(message) {
      if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", function recordPageError(error) {
      consoleErrors.push(`${page.url()}: uncaught ${error.name}: ${error.message}`);
    });
  }

  async function newPage(pageOptions: NewPageOptions = {}): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: pageOptions.width ?? 1280, height: pageOptions.height ?? 900 },
      baseURL: pageOptions.baseURL,
      acceptDownloads: pageOptions.acceptDownloads ?? true,
      ...(pageOptions.locale ? { locale: pageOptions.locale } : {}),
      ...(pageOptions.timezoneId ? { timezoneId: pageOptions.timezoneId } : {}),
    });
    context.on("page", collectErrorsOf);
    contexts.add(context);
    context.on("close", function forgetContext() {
      contexts.delete(context);
    });
    return context.newPage();
  }

  async function close(): Promise<void> {
    for (const context of [...contexts]) await context.close().catch(() => undefined);
    await browser.close();
  }

  function takeConsoleErrors(): string[] {
    const taken = consoleErrors;
    consoleErrors = [];
    return taken;
  }

  return { browser, newPage, takeConsoleErrors, close, [Symbol.asyncDispose]: close };
}
