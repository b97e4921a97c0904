import { type CallbackOutcome, completeConnection, type ServiceContext } from "@imapferry/core";
import type { Context } from "hono";

/** Where providers send the browser back: register exactly this as the OAuth client's redirect URI. */
export function oauth2CallbackUrl(publicUrl: string): string {
  return `${publicUrl}/oauth2/callback`;
}

/** The channel the panel listens on for a finished sign-in (same origin: the callback page is ours). */
export const CONNECT_CHANNEL = "imapferry-oauth2";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(outcome: CallbackOutcome): string {
  const title = outcome.ok ? "Mailbox connected" : "Not connected";
  const text = outcome.ok
    ? `Connected${outcome.account ? ` as ${outcome.account}` : ""}. You can close this window and finish the job in imapferry.`
    : outcome.sentence;
  // The script (served from this origin, as the CSP wants) tells the panel's window and closes this one.
  const data = outcome.ok ? ` data-connection="${outcome.connectionId}"` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · imapferry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2933}h1{font-size:1.3rem}</style>
</head><body><h1>${title}</h1><p role="status">${escapeHtml(text)}</p>
<script src="/oauth2/connected.js"${data}></script></body></html>`;
}

const CONNECTED_SCRIPT = `(() => {
  const id = Number(document.currentScript && document.currentScript.dataset.connection);
  if (!id) return;
  new BroadcastChannel(${JSON.stringify(CONNECT_CHANNEL)}).postMessage({ connectionId: id });
  setTimeout(() => window.close(), 1500);
})();
`;

/** GET /oauth2/callback and its script. Public: the state (checked once, server-side) is the proof. */
export function oauth2CallbackRoutes(ctx: ServiceContext, publicUrl: string) {
  return {
    async callback(c: Context): Promise<Response> {
      const outcome = await completeConnection(
        ctx,
        {
          state: c.req.query("state") ?? null,
          code: c.req.query("code") ?? null,
          error: c.req.query("error") ?? null,
        },
        oauth2CallbackUrl(publicUrl),
      );
      c.header("cache-control", "no-store");
      return c.html(page(outcome), outcome.ok ? 200 : 400);
    },
    script(c: Context): Response {
      c.header("content-type", "text/javascript; charset=utf-8");
      c.header("cache-control", "no-store");
      return c.body(CONNECTED_SCRIPT);
    },
  };
}
