import { createHash } from "node:crypto";

/**
 * How a message is recognised on both servers. Like imapsync, by its Message-Id and Received header
 * lines plus its size, where those can be trusted; otherwise by its content: a digest of its whole
 * header block plus its size. The message itself is never changed to make it recognisable (unless
 * the operator asks for --addheader), so a header-less message still arrives byte for byte and a
 * rerun still finds it.
 */

/** The header fields fetched (BODY.PEEK[HEADER.FIELDS (…)]) to identify messages cheaply. */
export const IDENTITY_HEADERS = ["message-id", "received"];

/** A msg-id as RFC 5322 writes it, `<left@right>`; anything else is not trusted to be unique. */
const WELL_FORMED_MESSAGE_ID = /^<[^<>\s@]+@[^<>\s]+>$/;

interface HeaderLine {
  name: string;
  value: string;
}

/** Unfolds a header block and returns the identity header lines, normalised. */
function identityLines(headers: Buffer | undefined): HeaderLine[] {
  if (!headers || headers.length === 0) {
    return [];
  }
  const unfolded = headers.toString("latin1").replace(/\r?\n[ \t]+/g, " ");
  const lines: HeaderLine[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    if (IDENTITY_HEADERS.includes(name)) {
      lines.push({
        name,
        value: line
          .slice(colon + 1)
          .replace(/\s+/g, " ")
          .trim(),
      });
    }
  }
  return lines;
}

function digest(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * imapsync's identity of a message, from its Message-Id and Received lines plus its size, or
 * undefined for a "void" message that has neither. Stored as a digest: a mailbox's identities stay
 * small in memory whatever its Received chains.
 */
export function messageIdentity(headers: Buffer | undefined, size: number | undefined): string | undefined {
  return headerKeyOf(identityLines(headers), size);
}

function headerKeyOf(lines: HeaderLine[], size: number | undefined): string | undefined {
  if (lines.length === 0) {
    return undefined;
  }
  const text = lines.map((line) => `${line.name}:${line.value}`).join("\n");
  // --skipsize: some servers change a message's size on APPEND (line endings), headers alone then.
  return `h:${digest(size === undefined ? text : `${text}\n${size}`)}`;
}

function hasOneWellFormedId(lines: HeaderLine[]): boolean {
  const ids = lines.filter((line) => line.name === "message-id");
  return ids.length === 1 && WELL_FORMED_MESSAGE_ID.test(ids[0]?.value ?? "");
}

/**
 * `messageIdentity` and `hasTrustedMessageId` from one reading of the header block: a scan asks both
 * of every message, and reading the block twice was a visible share of a check's time.
 */
export function headerIdentity(
  headers: Buffer | undefined,
  size: number | undefined,
): { headerKey: string | undefined; trustedId: boolean } {
  const lines = identityLines(headers);
  return { headerKey: headerKeyOf(lines, size), trustedId: hasOneWellFormedId(lines) };
}

/**
 * Whether the message carries exactly one well-formed Message-Id. Mail without one (drafts, sent
 * mail of some clients, scanners, imports) or with a malformed one is identified by content instead.
 */
export function hasTrustedMessageId(headers: Buffer | undefined): boolean {
  return hasOneWellFormedId(identityLines(headers));
}

/**
 * The identity of a message by content: its whole header block (Date, From, Subject, every
 * Received …) plus its size. Line endings are normalised, as some servers store LF. INTERNALDATE is
 * left out on purpose: a server that rounds or shifts it on APPEND would otherwise make every rerun
 * copy the message again.
 */
export function contentIdentity(headerBlock: Buffer, size: number | undefined): string {
  const normalised = headerBlock.toString("latin1").replace(/\r\n/g, "\n");
  return `c:${digest(size === undefined ? normalised : `${normalised}\n${size}`)}`;
}

/**
 * The header --addheader puts on top of a void message: imapsync's `Message-Id: <UID@imapsync>`.
 * It depends only on the source UID, so a rerun computes the same identity for the source message
 * as the copy has on the destination, and nothing is copied twice.
 */
export function addedHeader(sourceUid: number): Buffer {
  return Buffer.from(`Message-Id: <${sourceUid}@imapsync>\r\n`, "latin1");
}

/** The identity a void message gets once --addheader has added its header. */
export function addedHeaderIdentity(sourceUid: number, size: number, skipSize: boolean): string {
  const header = addedHeader(sourceUid);
  return messageIdentity(header, skipSize ? undefined : size + header.length) as string;
}
