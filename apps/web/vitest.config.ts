import { defineConfig } from "vitest/config";

/**
 * Unit tests of the panel's pure modules (formatting, validation) run in Node. The panel as a whole is
 * tested in a real browser against the real server: apps/server/test/panel-*.test.ts.
 */
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
