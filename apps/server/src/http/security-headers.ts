import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * Headers on every response. The panel is served from this origin and talks only to it, so the CSP
 * allows nothing else; it is never framed (clickjacking); no referrer leaves the panel (URLs can name
 * jobs and mailboxes).
 */
export const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    // Solid sets style attributes at run time; style-src covers <style> from the build.
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  xFrameOptions: "DENY",
  // Set per request in app.ts, only over https.
  strictTransportSecurity: false,
  xContentTypeOptions: "nosniff",
  referrerPolicy: "no-referrer",
  crossOriginOpenerPolicy: "same-origin",
  crossOriginResourcePolicy: "same-origin",
  permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
  removePoweredBy: true,
});

/**
 * The headers `securityHeaders` sets, for responses written straight to Node's response (SSE), which
 * no Hono middleware sees. Read off the middleware itself so the two cannot drift apart.
 */
export async function securityHeaderValues(): Promise<Record<string, string>> {
  const probe = new Hono().use(securityHeaders).get("/", (c) => c.body(null));
  const response = await probe.request("/");
  return Object.fromEntries(response.headers);
}
