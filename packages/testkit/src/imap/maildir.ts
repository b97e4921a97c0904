import { chown, mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import type { GeneratedMailbox } from "./generate.ts";

export interface FileOwner {
  uid: number;
  gid: number;
}

const SYSTEM_FLAG_LETTERS: Record<string, string> = {
  "\\Draft": "D",
  "\\Flagged": "F",
  "\\Answered": "R",
  "\\Seen": "S",
  "\\Deleted": "T",
};

/** Where a "/"-separated folder lives in our Dovecot layout (maildir LAYOUT=fs, INBOX=~/Maildir/INBOX, UTF-8). */
export function maildirFolderPath(maildirRoot: string, folder: string): string {
  if (folder.toUpperCase() === "INBOX") return path.join(maildirRoot, "INBOX");
  const parts = folder.split("/");
  if (
    parts.some((part) => part === "" || part === "." || part === ".." || ["cur", "new", "tmp"].includes(part))
  ) {
    throw new Error(`Folder ${JSON.stringify(folder)} can not be stored in a Maildir.`);
  }
  return path.join(maildirRoot, ...parts);
}

interface FolderState {
  dir: string;
  keywords: string[];
}

async function makeMailboxDir(dir: string, made: Set<string>): Promise<void> {
  if (made.has(dir)) return;
  for (const sub of ["cur", "new", "tmp"]) await mkdir(path.join(dir, sub), { recursive: true });
  made.add(dir);
}

/**
 * Writes every generated message as a Maildir file (flags in the name, internal date as mtime), one at a
 * time so memory stays flat. Dovecot indexes them on its next sync (or doveadm force-resync).
 */
export async function writeGeneratedMaildir(
  maildirRoot: string,
  mailbox: GeneratedMailbox,
  owner?: FileOwner,
): Promise<void> {
  const made = new Set<string>();
  const folders = new Map<string, FolderState>();
  // Parents become real mailboxes too, as if a client had created each level.
  for (const folder of mailbox.folders) {
    const parts = folder.split("/");
    for (let depth = 1; depth <= parts.length; depth++) {
      const dir = maildirFolderPath(maildirRoot, parts.slice(0, depth).join("/"));
      await makeMailboxDir(dir, made);
    }
    const dir = maildirFolderPath(maildirRoot, folder);
    folders.set(folder, { dir, keywords: await readKeywords(dir) });
  }
  await makeMailboxDir(maildirFolderPath(maildirRoot, "INBOX"), made);
  const stamp = Date.now();
  for (const message of mailbox.messages()) {
    const folder = folders.get(message.folder);
    if (!folder)
      throw new Error(`Generated message ${message.index} names unknown folder ${message.folder}.`);
    let letters = "";
    let keywordLetters = "";
    for (const flag of message.flags) {
      const system = SYSTEM_FLAG_LETTERS[flag];
      if (system) {
        letters += system;
        continue;
      }
      let keyword = folder.keywords.indexOf(flag);
      if (keyword === -1) {
        if (folder.keywords.length >= 26) throw new Error("A Maildir folder holds at most 26 keywords.");
        keyword = folder.keywords.push(flag) - 1;
      }
      keywordLetters += String.fromCharCode(97 + keyword);
    }
    // Maildir wants the info letters in ASCII order: system flags (upper case) first, then keywords.
    const info = [...letters].sort().join("") + [...keywordLetters].sort().join("");
    const source = message.source();
    const seconds = Math.floor(message.internalDate.getTime() / 1000);
    const file = path.join(
      folder.dir,
      "cur",
      `${stamp}.M${message.index}P${process.pid}.imapferry,S=${source.length},W=${source.length}:2,${info}`,
    );
    await writeFile(file, source);
    // Dovecot takes a Maildir message's internal date from the file's mtime.
    await utimes(file, seconds, seconds);
  }
  for (const folder of folders.values()) {
    if (folder.keywords.length === 0) continue;
    const lines = folder.keywords.map((keyword, index) => (keyword ? `${index} ${keyword}\n` : "")).join("");
    await writeFile(path.join(folder.dir, "dovecot-keywords"), lines);
  }
  if (owner) await chownTree(maildirRoot, owner);
}

/** The folder's existing keyword letters (a = 0 …), which messages already on disk rely on. */
async function readKeywords(dir: string): Promise<string[]> {
  const text = await readFile(path.join(dir, "dovecot-keywords"), "utf8").catch(() => "");
  const keywords: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^(\d+) (.+)$/.exec(line);
    if (match) keywords[Number(match[1])] = match[2] ?? "";
  }
  return Array.from(keywords, (keyword) => keyword ?? "");
}

async function chownTree(root: string, owner: FileOwner): Promise<void> {
  await chown(root, owner.uid, owner.gid);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) await chownTree(full, owner);
    else await chown(full, owner.uid, owner.gid);
  }
}
