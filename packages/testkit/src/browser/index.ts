export type { LaunchBrowserOptions, NewPageOptions, TestBrowser } from "./launch-browser.ts";
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, launchBrowser } from "./launch-browser.ts";
