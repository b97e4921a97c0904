import type { ClientCore } from "./types.ts";

/**
 * GETs one of the server's file downloads (a log, a report) and returns the response to read or
 * stream; a refusal becomes an Error with the server's own sentence.
 */
export async function download(core: ClientCore, path: string, what: string): Promise<Response> {
  const response = await core.fetch(`${core.baseUrl}${path}`);
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `Downloading ${what} failed (HTTP ${response.status}).`);
  }
  return response;
}
