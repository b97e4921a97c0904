import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

/**
 * In development Vite serves the panel and forwards the API to a running `imapferry start`
 * (IMAPFERRY_DEV_API, default http://127.0.0.1:8080). In production apps/server serves dist/.
 */
const apiTarget = process.env.IMAPFERRY_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [solid()],
  // Workspace packages expose their TypeScript sources under the "source" condition: the panel
  // bundles @imapferry/sdk (and core's browser-safe schemas) straight from src, no prebuild needed.
  resolve: {
    conditions: ["source", "browser", "module", "import", "default"],
    alias: [
      {
        // Core's schemas import two constant lists (JOB_STATUSES, SERVER_SECURITIES) from @imapferry/db,
        // whose index also exports pg pools and the embedded server. The browser gets the schema module
        // only: the constants, without any Node-only code.
        find: /^@imapferry\/db$/,
        replacement: fileURLToPath(new URL("../../packages/db/src/schema.ts", import.meta.url)),
      },
    ],
  },
  server: {
    port: 5173,
    proxy: {
      "/trpc": { target: apiTarget, changeOrigin: false, ws: false },
      "/api": { target: apiTarget, changeOrigin: false },
    },
  },
  build: { target: "es2022", sourcemap: false, outDir: "dist", emptyOutDir: true },
});
