import type { FetchMessageObject, ImapFlow } from "imapflow";
import type { UntaggedResponse } from "../imap-exec.ts";
import { execOf, fetchedItems, isThrottled } from "../imap-exec.ts";
import { toDate, uidSets } from "./mailbox-scan.ts";

/** One whole message as the copy reads it from the source. */
export interface FetchedBody {
  uid: number;
  flags: string[];
  internalDate: Date | undefined;
  source: Buffer;
}

/** What the copy does with each message read: false stops the reading. */
export type TakeBody = (body: FetchedBody) => Promise<boolean>;

const BODY_ITEMS = [
  { type: "ATOM", value: "UID" },
  { type: "ATOM", value: "FLAGS" },
  { type: "ATOM", value: "INTERNALDATE" },
  { type: "ATOM", value: "BODY.PEEK", section: [] },
];

/** The message in one `* n FETCH (…)` line; undefined for a line that carries no body (a flag change). */
function bodyOf(untagged: UntaggedResponse): FetchedBody | undefined {
  const { uid, flags = [], internalDate, body } = fetchedItems(untagged);
  return uid === undefined || body === undefined
    ? undefined
    : { uid, flags, internalDate: toDate(internalDate), source: body };
}

/**
 * Reads the messages with these UIDs from the selected mailbox in one UID FETCH, handing each to
 * `take` as it arrives (the server's next message waits until `take` resolves: the copy's queue
 * bounds memory). Goes past imapflow's fetch() through `exec` (see imap-exec.ts); a server that
 * throttles the read gets the rest asked through fetch(), whose retries wait out its backoffs.
 */
export async function fetchBodies(client: ImapFlow, uids: number[], take: TakeBody): Promise<void> {
  const pending = new Set(uids);
  let stopped = false;
  let stop = () => {};
  // A stop returns at once, as fetch() does: the rest of the answer is read and dropped meanwhile.
  const stoppedEarly = new Promise<void>((resolve) => {
    stop = resolve;
  });
  async function hand(body: FetchedBody): Promise<void> {
    if (stopped || !pending.delete(body.uid)) return;
    if (!(await take(body))) {
      stopped = true;
      stop();
    }
  }
  const exec = execOf(client);
  if (exec) {
    const [set = ""] = uidSets(uids, uids.length);
    const reading = exec
      .exec("UID FETCH", [{ type: "SEQUENCE", value: set }, BODY_ITEMS], {
        untagged: {
          async FETCH(untagged: UntaggedResponse) {
            const body = stopped ? undefined : bodyOf(untagged);
            if (body) await hand(body);
          },
        },
      })
      .then((response) => response.next());
    // Once stopped, how the command ends no longer matters.
    reading.catch(() => undefined);
    try {
      await Promise.race([reading, stoppedEarly]);
      return;
    } catch (e: unknown) {
      if (!isThrottled(e)) throw e;
    }
  }
  if (stopped || pending.size === 0) return;
  const [rest = ""] = uidSets([...pending], pending.size);
  const rows: AsyncIterable<FetchMessageObject> = client.fetch(
    rest,
    { uid: true, flags: true, internalDate: true, source: true },
    { uid: true },
  );
  for await (const row of rows) {
    if (!row.source) continue;
    await hand({
      uid: row.uid,
      flags: [...(row.flags ?? [])],
      internalDate: toDate(row.internalDate),
      source: row.source,
    });
    if (stopped) return;
  }
}
