export type { HttpApp, HttpAppOptions, HttpRuntime } from "./http/app.ts";
export { createHttpApp } from "./http/app.ts";
export type { AppRouter } from "./router/index.ts";
export { appRouter, PUBLIC_PROCEDURES } from "./router/index.ts";
