import type { ImapFlow } from "imapflow";
import { ImapferryError } from "../errors.ts";
import type { ImapCredentials, ImapServerEndpoint } from "./connection-test.ts";
import { classifyConnectionError, openImapSession } from "./connection-test.ts";
import { encodeImapFolderName } from "./imapsync/args.ts";

export interface PreflightFolder {
  /** UTF-8 name, "/"-separated as the server lists it. */
  path: string;
  /** The name on the wire (modified UTF-7), as imapsync prints it. */
  imapName: string;
  messages: number;
  bytes: number;
}

export interface PreflightResult {
  folders: PreflightFolder[];
  totalMessages: number;
  totalBytes: number;
  /** "status-size": one STATUS (SIZE) per folder; "fetch": sizes summed from FETCH RFC822.SIZE. */
  sizeMethod: "status-size" | "fetch";
  durationMs: number;
}

export interface PreflightOptions {
  /** Only these folders (same meaning as the `folders` engine option). */
  folders?: string[];
  /** Leave these out (same meaning as the `excludeFolders` engine option). */
  excludeFolders?: string[];
  /** Budget to connect and log in. @defaultValue 30000 */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** "fetch" sums FETCH RFC822.SIZE even where STATUS=SIZE exists (for servers whose SIZE is wrong). @defaultValue "auto" */
  sizeMethod?: "auto" | "fetch";
}

function matches(names: string[] | undefined, path: string, imapName: string): boolean {
  return (names ?? []).some(
    (name) => name === path || name === imapName || encodeImapFolderName(name) === imapName,
  );
}

async function sumSizesByFetch(client: ImapFlow, path: string, signal?: AbortSignal): Promise<number> {
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    let total = 0;
    for await (const message of client.fetch("1:*", { size: true })) {
      if (signal?.aborted) break;
      total += message.size ?? 0;
    }
    return total;
  } finally {
    lock.release();
  }
}

/**
 * Counts messages and bytes per source folder before a run, so progress has a total without imapsync's
 * slow `--foldersizes`: one STATUS (MESSAGES SIZE) per folder where the server supports STATUS=SIZE,
 * else MESSAGES from STATUS and the sizes summed from FETCH RFC822.SIZE. Read-only: it changes nothing.
 * Fails with UNAVAILABLE and the connection test's sentence when the source cannot be reached.
 */
export async function preflight(
  server: ImapServerEndpoint,
  credentials: ImapCredentials,
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  let client: ImapFlow;
  try {
    client = await openImapSession(server, credentials, timeoutMs);
  } catch (e: unknown) {
    const { sentence } = classifyConnectionError(e, server, credentials.user, timeoutMs, credentials.admin);
    throw new ImapferryError("UNAVAILABLE", `Pre-flight count of the source failed: ${sentence}`);
  }
  try {
    const statusSize =
      options.sizeMethod !== "fetch" &&
      (client.capabilities.has("STATUS=SIZE") || client.capabilities.has("IMAP4rev2"));
    const listing = await client.list({
      statusQuery: { messages: true, ...(statusSize ? { size: true } : {}) },
    });
    const folders: PreflightFolder[] = [];
    for (const entry of listing) {
      if (options.signal?.aborted) break;
      if (entry.flags.has("\\Noselect") || entry.flags.has("\\NonExistent")) continue;
      if (options.folders && !matches(options.folders, entry.path, entry.pathAsListed)) continue;
      if (matches(options.excludeFolders, entry.path, entry.pathAsListed)) continue;
      let messages = entry.status?.messages;
      let bytes = entry.status?.size;
      if (messages === undefined || (statusSize && bytes === undefined)) {
        const status = await client.status(entry.path, {
          messages: true,
          ...(statusSize ? { size: true } : {}),
        });
        messages = status ? (status.messages ?? 0) : 0;
        bytes = status ? status.size : undefined;
      }
      if (bytes === undefined)
        bytes = messages > 0 ? await sumSizesByFetch(client, entry.path, options.signal) : 0;
      folders.push({ path: entry.path, imapName: entry.pathAsListed, messages, bytes });
    }
    folders.sort((a, b) => (a.imapName < b.imapName ? -1 : a.imapName > b.imapName ? 1 : 0));
    return {
      folders,
      totalMessages: folders.reduce((sum, f) => sum + f.messages, 0),
      totalBytes: folders.reduce((sum, f) => sum + f.bytes, 0),
      sizeMethod: statusSize ? "status-size" : "fetch",
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await client.logout().catch(() => client.close());
  }
}
