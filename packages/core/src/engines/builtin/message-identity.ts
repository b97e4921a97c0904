/**
 * How a message is recognised on both servers, as imapsync does it: by its Message-Id and
 * Received header lines plus its size. A message with neither header is "void" (imapsync's
 * "no wanted headers"): it cannot be recognised on a rerun, so it is skipped unless --addheader
 * gives it a Message-Id.
 */

/** The header fields fetched (BODY.PEEK[HEADER.FIELDS (…)]) to identify messages. */
export const IDENTITY_HEADERS = ["message-id", "received"];

/** Unfolds a header block and returns the identity header lines, normalised. */
function identityLines(headers: Buffer | undefined): string[] {
  if (!headers || headers.length === 0) {
    return [];
  }
  const unfolded = headers.toString("latin1").replace(/\r?\n[ \t]+/g, " ");
  const lines: string[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    if (IDENTITY_HEADERS.includes(name)) {
      lines.push(
        `${name}:${line
          .slice(colon + 1)
          .replace(/\s+/g, " ")
          .trim()}`,
      );
    }
  }
  return lines;
}

/** The identity of a message, or undefined for a void (header-less) one. */
export function messageIdentity(headers: Buffer | undefined, size: number | undefined): string | undefined {
  const lines = identityLines(headers);
  if (lines.length === 0) {
    return undefined;
  }
  // --skipsize: some servers change a message's size on APPEND (line endings), headers alone then.
  return size === undefined ? lines.join("\n") : `${lines.join("\n")}\n${size}`;
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
