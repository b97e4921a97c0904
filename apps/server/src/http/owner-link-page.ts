import type { LoginRateLimiter, OwnerLinkState, ServiceContext } from "@imapferry/core";
import { errorMessage, readOwnerLink, submitOwnerPassword } from "@imapferry/core";
import type { Context } from "hono";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { readBoundedBody } from "./request-body.ts";

/** A password and a form field name fit many times over. */
const FORM_BYTES = 16 * 1024;

/**
 * The page a mailbox owner opens from a credential link: no panel, no login, no script. It is rendered
 * on the server (a form that posts back to itself) so it works on any phone browser, and it shows
 * only the mailbox's login and its server's name. The token is in the path; it is never logged.
 */
export function createOwnerLinkPage(
  ctx: ServiceContext,
  options: { limiter: LoginRateLimiter; clientAddress: (c: Context) => string },
) {
  async function showOwnerLink(c: Context): Promise<Response> {
    try {
      const state = await readOwnerLink(ctx, c.req.param("token") ?? "");
      return page(c, statusOf(state), state.state === "open" ? formPage(state, null) : closedPage(state));
    } catch (e: unknown) {
      return failure(c, e);
    }
  }

  async function submitOwnerLink(c: Context): Promise<Response> {
    try {
      const token = c.req.param("token") ?? "";
      const body = await readBoundedBody(c.req.raw, FORM_BYTES);
      const password = "text" in body ? (new URLSearchParams(body.text).get("password") ?? "") : "";
      const outcome = await submitOwnerPassword(ctx, {
        token,
        password,
        ip: options.clientAddress(c),
        limiter: options.limiter,
      });
      if (outcome.result === "accepted") return page(c, 200, acceptedPage());
      if (outcome.result === "closed") return page(c, statusOf(outcome.page), closedPage(outcome.page));
      // Refused: the form again with the sentence; the link still works.
      const state = await readOwnerLink(ctx, token);
      if (state.state !== "open") return page(c, statusOf(state), closedPage(state));
      return page(c, 400, formPage(state, outcome.sentence));
    } catch (e: unknown) {
      return failure(c, e);
    }
  }

  function failure(c: Context, e: unknown): Response | Promise<Response> {
    // Not app.onError: it logs the path, which holds the token.
    ctx.log.error("credential link page failed", { error: errorMessage(e) });
    return page(
      c,
      500,
      closedBody(
        "Something went wrong",
        "The page could not be shown just now. Try again in a few minutes; if it keeps happening, tell whoever sent you this link.",
      ),
    );
  }

  return { showOwnerLink, submitOwnerLink };
}

function statusOf(state: OwnerLinkState): ContentfulStatusCode {
  if (state.state === "open") return 200;
  return state.state === "unknown" ? 404 : 410;
}

function page(
  c: Context,
  status: ContentfulStatusCode,
  body: HtmlEscapedString | Promise<HtmlEscapedString>,
) {
  // Nothing here may be kept by a browser or a proxy: the form can hold a password, the URL a key.
  c.header("Cache-Control", "no-store");
  c.header("X-Robots-Tag", "noindex, nofollow");
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Your mailbox move</title>
<style>${STYLE}</style>
</head>
<body>
<main>${body}</main>
</body>
</html>`,
    status,
  );
}

/** "14 December 2026, 10:00 UTC". */
function formatExpiry(at: Date): string {
  return `${at.toLocaleString("en-GB", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" })} UTC`;
}

function formPage(state: Extract<OwnerLinkState, { state: "open" }>, error: string | null) {
  return html`<h1>Enter the password of your old mailbox</h1>
<p>Your mailbox is being moved to a new server. Enter the password you use for it today: it is checked with your old server, then used only to copy your mail.</p>
<dl>
<dt>Login</dt><dd data-login>${state.login}</dd>
<dt>Server</dt><dd data-server>${state.serverName}</dd>
</dl>
${error === null ? "" : html`<p class="error" role="alert" id="password-error">${error}</p>`}
<form method="post" autocomplete="on">
<input type="text" name="username" autocomplete="username" value="${state.login}" hidden readonly>
<label for="password">Password for ${state.login}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${error === null ? "" : html` aria-invalid="true" aria-describedby="password-error"`} autofocus>
<button type="submit">Check and save</button>
</form>
<p class="small">This link works once, until ${formatExpiry(state.expiresAt)}. Checking the password takes a few seconds.</p>`;
}

function acceptedPage() {
  return html`<h1 data-outcome="accepted">Thank you</h1>
<p>Your old server accepted the password. Your mail is being copied now; you can close this page.</p>`;
}

const CLOSED: Record<Exclude<OwnerLinkState["state"], "open">, { title: string; text: string }> = {
  used: {
    title: "This link has already been used",
    text: "The password was entered already and the move has started. If the password must change, ask whoever sent you the link for a new one.",
  },
  expired: {
    title: "This link has expired",
    text: "Ask whoever sent it to you for a new link.",
  },
  replaced: {
    title: "This link was replaced by a newer one",
    text: "Use the most recent link you received.",
  },
  cancelled: {
    title: "This move was cancelled",
    text: "Nothing needs your password any more. If that is a surprise, ask whoever sent you the link.",
  },
  unknown: {
    title: "This link is not valid",
    text: "Check that you opened the whole link from the email; links can break across lines. Otherwise ask whoever sent it for a new one.",
  },
};

function closedPage(state: OwnerLinkState) {
  if (state.state === "open") return closedBody(CLOSED.unknown.title, CLOSED.unknown.text);
  const { title, text } = CLOSED[state.state];
  return closedBody(title, text, state.state);
}

function closedBody(title: string, text: string, state = "error") {
  return html`<h1 data-outcome="${state}">${title}</h1>
<p>${text}</p>`;
}

/** Readable on a 320 px phone and a desktop alike; inline because the page loads nothing else. */
const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2433;background:#f4f6fa}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem;background:#fff;min-height:100vh}
@media (min-width:32rem){main{margin:2rem auto;min-height:0;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08);padding:2rem}}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .75rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:1rem 0;padding:.75rem;background:#f4f6fa;border-radius:8px}
dt{color:#5b6475}dd{margin:0;overflow-wrap:anywhere;font-weight:600}
label{display:block;font-weight:600;margin:1rem 0 .35rem;overflow-wrap:anywhere}
input[type=password]{width:100%;font-size:1rem;padding:.75rem;border:1px solid #b7bfcc;border-radius:8px}
input[aria-invalid=true]{border-color:#b42318}
button{margin-top:1rem;width:100%;min-height:48px;font-size:1rem;font-weight:600;color:#fff;background:#2457d6;border:0;border-radius:8px}
.error{color:#b42318;background:#fef3f2;border:1px solid #fecdca;padding:.75rem;border-radius:8px;margin:1rem 0 0}
.small{font-size:.875rem;color:#5b6475}
`;
