/** How imapflow and the append connection report server and connection failures. */

interface ServerErrorShape {
  responseText?: unknown;
  serverResponseCode?: unknown;
  message?: unknown;
}

export function errorText(e: unknown): string {
  if (typeof e === "object" && e !== null) {
    const err = e as ServerErrorShape;
    if (typeof err.responseText === "string" && err.responseText) {
      return err.responseText;
    }
    if (typeof err.message === "string") {
      return err.message.split("\n")[0] ?? err.message;
    }
  }
  return String(e);
}

const CONNECTION_ERROR_CODES = new Set([
  "NoConnection",
  "EConnectionClosed",
  "StateLogout",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

export function isConnectionError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) {
    return false;
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) {
    return true;
  }
  return /Connection not available|Connection closed|Socket is already closed|append connection/i.test(
    errorText(e),
  );
}

export function isOverQuota(e: unknown): boolean {
  if (typeof e !== "object" || e === null) {
    return false;
  }
  const err = e as ServerErrorShape;
  const code = typeof err.serverResponseCode === "string" ? err.serverResponseCode.toUpperCase() : "";
  return code === "OVERQUOTA" || /quota/i.test(errorText(e));
}
