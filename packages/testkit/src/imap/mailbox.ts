import { createHash } from "node:crypto";
import { ImapFlow } from "imapflow";
import type { ImapServer } from "./dovecot.ts";

/** A message to APPEND. */
export interface SeedMessage {
  /** Full RFC 822 source, stored byte for byte. */
  source: Buffer | string;
  /** System flags (`\\Seen` …) and keywords (`$Work`). @defaultValue [] */
  flags?: string[];
  /** @defaultValue the server's clock */
  internalDate?: Date | string;
}

export interface SeedFolder {
  /** "/"-separated, UTF-8 (for example "Archiv/2024/Café ☕"); parents are created first. */
  path: string;
  messages?: SeedMessage[];
}

export interface MailboxSpec {
  folders: SeedFolder[];
}

export interface MailboxMessageSnapshot {
  /** sha256 (hex) of the full RFC 822 source as fetched with BODY.PEEK[]. */
  sha256: string;
  size: number;
  /** Sorted, without \\Recent (which says more about the session than the message). */
  flags: string[];
  /** ISO 8601, UTC. */
  internalDate: string;
}

export interface MailboxFolderSnapshot {
  /** "/"-separated, UTF-8. */
  path: string;
  messages: MailboxMessageSnapshot[];
}

/** A whole mailbox, ordered so that two copies of the same mail compare equal with toEqual. */
export interface MailboxSnapshot {
  folders: MailboxFolderSnapshot[];
}

type ImapServerAddress = Pick<ImapServer, "imapflowOptions">;

export interface ReadMailboxOptions {
  /**
   * Header fields (case-insensitive) to leave out of each message before hashing and measuring, for
   * comparisons where the copy legitimately differs, such as a Message-ID that imapsync's --addheader
   * adds to messages without one. @defaultValue []
   */
  ignoreHeaders?: string[];
}

/** The source without the named top-level header fields (continuation lines included). */
function withoutHeaders(source: Buffer, names: readonly string[]): Buffer {
  if (names.length === 0) return source;
  const ignored = new Set(names.map((name) => name.toLowerCase()));
  const text = source.toString("latin1");
  const crlfEnd = text.indexOf("\r\n\r\n");
  const headerEnd = crlfEnd === -1 ? text.length : crlfEnd + 2;
  const lines = text.slice(0, headerEnd).split(/(?<=\r\n)/);
  let skipping = false;
  const kept = lines.filter((line) => {
    if (!/^[ \t]/.test(line)) skipping = ignored.has(line.slice(0, line.indexOf(":")).trim().toLowerCase());
    return !skipping;
  });
  return Buffer.from(kept.join("") + text.slice(headerEnd), "latin1");
}

function describeMessage(
  source: Buffer,
  flags: Iterable<string>,
  internalDate: Date,
): MailboxMessageSnapshot {
  return {
    sha256: createHash("sha256").update(source).digest("hex"),
    size: source.length,
    flags: [...flags].filter((flag) => flag !== "\\Recent").sort(),
    internalDate: internalDate.toISOString(),
  };
}

async function withClient<T>(
  server: ImapServerAddress,
  user: string,
  password: string,
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow(server.imapflowOptions({ user, password }));
  // imapflow reports socket trouble as 'error' events; without a listener they would crash the process.
  client.on("error", function ignoreClientError() {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

function ancestorsAndSelf(folderPath: string): string[] {
  const parts = folderPath.split("/");
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}

/**
 * Creates the folders of `spec` (each level a real, subscribed mailbox) and APPENDs its messages with
 * their flags and internal dates, over IMAP as any client would.
 */
export async function seedMailbox(
  server: ImapServerAddress,
  user: string,
  password: string,
  spec: MailboxSpec,
): Promise<void> {
  await withClient(server, user, password, async function seed(client) {
    const existing = new Set(
      (await client.list()).map((entry) => entry.path.split(entry.delimiter).join("/")),
    );
    existing.add("INBOX");
    for (const folder of spec.folders) {
      for (const level of ancestorsAndSelf(folder.path)) {
        if (existing.has(level) || level.toUpperCase() === "INBOX") continue;
        await client.mailboxCreate(level.split("/"));
        await client.mailboxSubscribe(level.split("/"));
        existing.add(level);
      }
      for (const message of folder.messages ?? []) {
        const appended = await client.append(
          folder.path.split("/"),
          message.source,
          message.flags ?? [],
          message.internalDate,
        );
        if (appended === false) throw new Error(`APPEND to ${folder.path} was refused.`);
      }
    }
  });
}

function compareMessages(a: MailboxMessageSnapshot, b: MailboxMessageSnapshot): number {
  return (
    a.sha256.localeCompare(b.sha256) ||
    a.internalDate.localeCompare(b.internalDate) ||
    a.flags.join(" ").localeCompare(b.flags.join(" "))
  );
}

function comparePaths(a: string, b: string): number {
  // Plain code-unit order: stable across locales, unlike localeCompare.
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads every selectable folder and every message back over IMAP, read-only (EXAMINE and BODY.PEEK[],
 * so no flag changes). Folders sort by path, messages by content hash.
 */
export async function readMailbox(
  server: ImapServerAddress,
  user: string,
  password: string,
  options: ReadMailboxOptions = {},
): Promise<MailboxSnapshot> {
  const ignoreHeaders = options.ignoreHeaders ?? [];
  return withClient(server, user, password, async function read(client) {
    const folders: MailboxFolderSnapshot[] = [];
    for (const entry of await client.list()) {
      // Placeholders for a hierarchy level (\Noselect, \NonExistent) hold no mail and are not mailboxes.
      if (entry.flags.has("\\Noselect") || entry.flags.has("\\NonExistent")) continue;
      const folderPath = entry.delimiter ? entry.path.split(entry.delimiter).join("/") : entry.path;
      const messages: MailboxMessageSnapshot[] = [];
      const mailbox = await client.mailboxOpen(entry.path, { readOnly: true });
      if (mailbox.exists > 0) {
        for await (const message of client.fetch("1:*", { source: true, flags: true, internalDate: true })) {
          if (!message.source || message.internalDate === undefined) {
            throw new Error(`The server sent no body or internal date for a message in ${folderPath}.`);
          }
          messages.push(
            describeMessage(
              withoutHeaders(message.source, ignoreHeaders),
              message.flags ?? [],
              new Date(message.internalDate),
            ),
          );
        }
      }
      await client.mailboxClose();
      messages.sort(compareMessages);
      folders.push({ path: folderPath, messages });
    }
    folders.sort((a, b) => comparePaths(a.path, b.path));
    return { folders };
  });
}

/** The snapshot a seeded spec should read back as: the expected value for `readMailbox`. */
export function snapshotOfSpec(spec: MailboxSpec, options: ReadMailboxOptions = {}): MailboxSnapshot {
  const ignoreHeaders = options.ignoreHeaders ?? [];
  const byPath = new Map<string, MailboxMessageSnapshot[]>([["INBOX", []]]);
  for (const folder of spec.folders) {
    for (const level of ancestorsAndSelf(folder.path)) if (!byPath.has(level)) byPath.set(level, []);
    const messages = byPath.get(folder.path) ?? [];
    for (const message of folder.messages ?? []) {
      const source = typeof message.source === "string" ? Buffer.from(message.source) : message.source;
      if (message.internalDate === undefined) {
        throw new Error(`snapshotOfSpec needs an internalDate for every message (folder ${folder.path}).`);
      }
      // IMAP keeps internal dates to the second.
      const internalDate = new Date(Math.floor(new Date(message.internalDate).getTime() / 1000) * 1000);
      messages.push(
        describeMessage(withoutHeaders(source, ignoreHeaders), message.flags ?? [], internalDate),
      );
    }
  }
  const folders = [...byPath.entries()].map(([path, messages]) => ({
    path,
    messages: messages.sort(compareMessages),
  }));
  return { folders: folders.sort((a, b) => comparePaths(a.path, b.path)) };
}
