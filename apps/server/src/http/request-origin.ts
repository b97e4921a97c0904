/**
 * Cross-site request forgery, checked before a mutation runs. SameSite=Strict cookies are the first
 * defence; these are the second, for browsers and proxies where that one fails:
 * - a mutation must be `application/json`: an HTML form on another site can only send urlencoded,
 *   multipart or text/plain bodies, and a cross-site fetch with JSON needs a CORS preflight we never grant;
 * - a browser's request must come from the panel's own origin: `Sec-Fetch-Site` other than
 *   same-origin or none (typed in the address bar), or an `Origin` that is not ours, is refused.
 * Requests with an Authorization header carry no ambient credential to forge and skip the origin check;
 * clients that are not browsers (the SDK in Node, curl) send neither header and pass it.
 */
export type OriginProblem = { status: 415 | 403; message: string };

export function checkMutationOrigin(
  request: Request,
  allowedOrigins: ReadonlySet<string>,
): OriginProblem | null {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    return { status: 415, message: "Send API calls as Content-Type: application/json." };
  }
  if (request.headers.has("authorization")) return null;
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return {
      status: 403,
      message: "This request came from another site; imapferry only takes its own panel's.",
    };
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !allowedOrigins.has(origin) && !isOwnHost(request, origin)) {
    return {
      status: 403,
      message: "This request came from another site; imapferry only takes its own panel's.",
    };
  }
  return null;
}

/**
 * Whether `origin` is the host the browser addressed (its Host header), over either scheme: behind a
 * TLS proxy we see http while the browser's origin says https.
 */
function isOwnHost(request: Request, origin: string): boolean {
  const host = request.headers.get("host");
  return host !== null && (origin === `https://${host}` || origin === `http://${host}`);
}
