import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { Context } from "hono";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
};

async function fileResponse(
  filePath: string,
  method: string,
  cacheControl: string,
): Promise<Response | null> {
  const info = await stat(filePath).catch(() => null);
  if (!info?.isFile()) return null;
  const headers = {
    "Content-Type": CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": String(info.size),
    "Cache-Control": cacheControl,
  };
  if (method === "HEAD") return new Response(null, { headers });
  const stream = Readable.toWeb(createReadStream(filePath)) as ReadableStream<Uint8Array>;
  return new Response(stream, { headers });
}

/**
 * Serves the built panel from `webRoot`, and index.html for any other GET (the panel routes on the
 * client: /jobs/42 must load the app). Paths never leave webRoot.
 */
export function createPanelHandler(webRoot: string) {
  const root = path.resolve(webRoot);
  return async function servePanel(c: Context): Promise<Response> {
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") return c.text("Not found", 404);
    let relative: string;
    try {
      relative = decodeURIComponent(new URL(c.req.url).pathname);
    } catch {
      return c.text("Bad path", 400);
    }
    const filePath = path.resolve(root, `.${path.posix.normalize(relative)}`);
    if (filePath.startsWith(root + path.sep) && !relative.endsWith("/")) {
      // Vite puts content-hashed files under assets/: they never change, so caches may keep them.
      const immutable = relative.startsWith("/assets/");
      const found = await fileResponse(
        filePath,
        method,
        immutable ? "public, max-age=31536000, immutable" : "no-cache",
      );
      if (found) return found;
      // A missing asset is a 404, not the app: a script tag must not receive HTML.
      if (path.extname(relative) !== "") return c.text("Not found", 404);
    }
    const index = await fileResponse(path.join(root, "index.html"), method, "no-cache");
    if (index) return index;
    return c.text("The panel is not built. Run `pnpm build` (or set IMAPFERRY_WEB_ROOT), then restart.", 404);
  };
}
