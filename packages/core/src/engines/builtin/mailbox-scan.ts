import type { ImapFlow } from "imapflow";
import { storableFlags } from "./append-messages.ts";
import { IDENTITY_HEADERS, messageIdentity } from "./message-identity.ts";

/** UIDs per FETCH command, to keep command lines short on sparse UID sets. */
export const UIDS_PER_FETCH = 1000;

export interface ScannedMessage {
  uid: number;
  size: number;
  identity: string | undefined;
  internalDate: Date | undefined;
  /** Storable flags, sorted. */
  flags: string[];
}

export function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) {
    return undefined;
  }
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Compact UID sets (`1:5,9,12:14`), split so no FETCH command line grows unbounded. */
export function uidSets(uids: number[], perSet: number): string[] {
  const sets: string[] = [];
  for (let start = 0; start < uids.length; start += perSet) {
    const chunk = uids.slice(start, start + perSet);
    const parts: string[] = [];
    let runStart = chunk[0];
    let previous = chunk[0];
    for (let i = 1; i <= chunk.length; i++) {
      const uid = chunk[i];
      if (uid !== undefined && previous !== undefined && uid === previous + 1) {
        previous = uid;
        continue;
      }
      if (runStart !== undefined && previous !== undefined) {
        parts.push(runStart === previous ? `${runStart}` : `${runStart}:${previous}`);
      }
      runStart = uid;
      previous = uid;
    }
    sets.push(parts.join(","));
  }
  return sets;
}

export async function scanMailbox(
  client: ImapFlow,
  exists: number,
  skipSize: boolean,
): Promise<ScannedMessage[]> {
  if (exists === 0) {
    return [];
  }
  const scanned: ScannedMessage[] = [];
  const rows = client.fetch("1:*", {
    uid: true,
    size: true,
    flags: true,
    internalDate: true,
    headers: IDENTITY_HEADERS,
  });
  for await (const row of rows) {
    const size = row.size ?? 0;
    scanned.push({
      uid: row.uid,
      size,
      identity: messageIdentity(row.headers, skipSize ? undefined : size),
      internalDate: toDate(row.internalDate),
      flags: storableFlags(row.flags ?? []).sort(),
    });
  }
  scanned.sort((a, b) => a.uid - b.uid);
  return scanned;
}
