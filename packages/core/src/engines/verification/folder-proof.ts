import type { FolderVerification } from "@imapferry/db";
import type { ImapFlow } from "imapflow";

/**
 * Why the check may skip reading a folder pair it has already found complete: under one UIDVALIDITY a
 * UID always names the same message (RFC 3501), UIDs are only ever handed out from UIDNEXT up, and
 * MESSAGES counts what is there. So a folder whose UIDVALIDITY, UIDNEXT and MESSAGES are all as they
 * were holds exactly the same messages as then. When both folders of a pair are as they were at a check
 * that proved every source message had its copy, the proof still holds, exactly. This relies on IMAP
 * alone, not on what the engine says it did: it works the same after imapsync.
 */
export interface FolderStamp {
  uidValidity: string;
  uidNext: number;
  messages: number;
}

export interface FolderProof {
  /** The options the check matched messages under (see proofKey); a proof under others does not apply. */
  key: string;
  source: FolderStamp;
  destination: FolderStamp;
  /** What the check found then: complete (missing 0). */
  result: FolderVerification;
}

/** What the check is given to remember proofs by: the stored ones, and where new ones go. */
export interface FolderProofs {
  lookup(sourceFolder: string, destinationFolder: string): FolderProof | undefined;
  record(proof: FolderProof): void;
}

export async function folderStamp(client: ImapFlow, path: string): Promise<FolderStamp | undefined> {
  const status = await client.status(path, { messages: true, uidNext: true, uidValidity: true });
  if (
    !status ||
    status.uidValidity === undefined ||
    status.uidNext === undefined ||
    status.messages === undefined
  ) {
    return undefined;
  }
  return { uidValidity: status.uidValidity.toString(), uidNext: status.uidNext, messages: status.messages };
}

export function sameStamp(a: FolderStamp | undefined, b: FolderStamp | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.uidValidity === b.uidValidity &&
    a.uidNext === b.uidNext &&
    a.messages === b.messages
  );
}

export function parseFolderProof(value: unknown): FolderProof | undefined {
  const v = value as Partial<FolderProof> | null;
  const stamp = (s: unknown) => {
    const x = s as Partial<FolderStamp> | null;
    return (
      typeof x === "object" &&
      x !== null &&
      typeof x.uidValidity === "string" &&
      Number.isInteger(x.uidNext) &&
      Number.isInteger(x.messages)
    );
  };
  if (
    typeof v !== "object" ||
    v === null ||
    typeof v.key !== "string" ||
    !stamp(v.source) ||
    !stamp(v.destination) ||
    typeof v.result !== "object" ||
    v.result === null ||
    v.result.missing !== 0
  ) {
    return undefined;
  }
  return v as FolderProof;
}
