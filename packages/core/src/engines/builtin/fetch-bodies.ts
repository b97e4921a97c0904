import type { FetchMessageObject, ImapFlow } from "imapflow";
import type { ImapToken, UntaggedResponse } from "../imap-exec.ts";
import { bytesOf, execOf, fetchResponseItems, isThrottled, uintOf } from "../imap-exec.ts";
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

function flagsOf(token: unknown): string[] {
  if (!Array.isArray(token)) return [];
  const flags: string[] = [];
  for (const flag of token as (ImapToken | null)[]) {
    if (typeof flag?.value === "string") flags.push(flag.value);
  }
  return flags;
}

/** The message in one `* n FETCH (…)` line; undefined for a line that carries no body (a flag change). */
function bodyOf(untagged: UntaggedResponse): FetchedBody | undefined {
  const items = fetchResponseItems(untagged);
  if (!items) return undefined;
  let uid: number | undefined;
  let flags: string[] = [];
  let internalDate: Date | undefined;
  let source: Buffer | undefined;
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i] as ImapToken | null;
    const value = items[i + 1];
    const name = typeof key?.value === "string" ? key.value.toUpperCase() : "";
    if (name === "UID") uid = uintOf(value as ImapToken);
    else if (name === "FLAGS") flags = flagsOf(value);
    else if (name === "INTERNALDATE") {
      const text = (value as ImapToken | null)?.value;
      internalDate = typeof text === "string" ? toDate(text) : undefined;
    } else if (name === "BODY" && Array.isArray(key?.section)) source = bytesOf(value as ImapToken);
  }
  return uid === undefined || source === undefined ? undefined : { uid, flags, internalDate, source };
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
