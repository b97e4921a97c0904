import { createClient } from "@imapferry/sdk";

/**
 * The one client the panel uses. Same origin in production (apps/server serves the panel) and in
 * development (Vite proxies /trpc and /api), so the session cookie just rides along.
 */
export const api = createClient({ url: window.location.origin, credentials: "include" });

export type Api = typeof api;
