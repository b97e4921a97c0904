import type { ImapFlow } from "imapflow";
import type { ScannedMessage } from "../builtin/mailbox-scan.ts";
import { IDENTITY_HEADERS_ITEM, scanMailbox, toDate } from "../builtin/mailbox-scan.ts";
import { headerIdentity } from "../builtin/message-identity.ts";
import type { UntaggedResponse } from "../imap-exec.ts";
import { execOf, fetchedItems, isThrottled } from "../imap-exec.ts";

/*
 * Why the check reads messages past imapflow's fetch(): the check is CPU-bound on the worker, and
 * profiled on 2,000 messages a third of its time went to imapflow turning each parsed FETCH line
 * into a message object (re-serialising every item name to find its key, a Set of flags, a Date)
 * and handing the rows one by one through an async generator; fetch() also asks for MODSEQ on a
 * CONDSTORE server and the scan for FLAGS, neither of which the check uses. So the check sends its
 * own FETCH through imapflow's generic `exec` (imapflow still connects, logs in, parses the wire
 * and owns the connection) asking only what matching needs, and takes the values from the parsed
 * line (see imap-exec.ts). Without `exec`, or when the server throttles the read, the scan falls
 * back to fetch(), which waits the server's backoff out.
 */

/** The check compares no flags: every message it reads shares this one empty list. */
const FLAGS_NOT_READ: string[] = Object.freeze([]) as unknown as string[];

interface FetchedRow {
  uid: number;
  size: number;
  headers: Buffer | undefined;
  internalDate: string | undefined;
}

/**
 * The values of one `* n FETCH (…)` line. A line without UID and RFC822.SIZE is not an answer to
 * this FETCH (a flag change another session made, reported unasked) and is left out. The only body
 * section asked for is the identity header fields.
 */
function rowOf(untagged: UntaggedResponse): FetchedRow | undefined {
  const { uid, size, body, internalDate } = fetchedItems(untagged);
  return uid === undefined || size === undefined ? undefined : { uid, size, headers: body, internalDate };
}

function fetchItems(internalDates: boolean): unknown[] {
  return [
    { type: "ATOM", value: "UID" },
    { type: "ATOM", value: "RFC822.SIZE" },
    ...(internalDates ? [{ type: "ATOM", value: "INTERNALDATE" }] : []),
    // The same fields, spelt the same way, as the engine's scan: Dovecot answers the check from
    // what the copy already read.
    IDENTITY_HEADERS_ITEM,
  ];
}

/**
 * What the check needs of every message of the selected mailbox, in UID order: UID, size and
 * identity headers, and INTERNALDATE only when asked (age limits). The identity is provisional
 * until `identifyMessages` has run, as after `scanMailbox`; flags are not read and subjects are
 * left for the few messages a report names.
 */
export async function readIdentities(
  client: ImapFlow,
  exists: number,
  options: { skipSize: boolean; internalDates: boolean },
): Promise<ScannedMessage[]> {
  if (exists === 0) return [];
  const raw = execOf(client);
  if (!raw) return scanMailbox(client, exists, options.skipSize);
  const messages: ScannedMessage[] = [];
  try {
    const response = await raw.exec(
      "FETCH",
      [{ type: "SEQUENCE", value: "1:*" }, fetchItems(options.internalDates)],
      {
        untagged: {
          FETCH(untagged: UntaggedResponse) {
            const row = rowOf(untagged);
            if (!row) return;
            const { headerKey, trustedId } = headerIdentity(
              row.headers,
              options.skipSize ? undefined : row.size,
            );
            // Every property always present, in one order, as in the scan: one compact object shape.
            messages.push({
              uid: row.uid,
              size: row.size,
              identity: headerKey ?? "",
              headerKey,
              trustedId,
              internalTime: toDate(row.internalDate)?.getTime(),
              flags: FLAGS_NOT_READ,
            });
          },
        },
      },
    );
    response.next();
  } catch (e: unknown) {
    if (!isThrottled(e)) throw e;
    return scanMailbox(client, exists, options.skipSize);
  }
  messages.sort((a, b) => a.uid - b.uid);
  return messages;
}
