import type { Database, ServerRow } from "@imapferry/db";
import type { Kysely } from "kysely";
import { ImapferryError } from "../../errors.ts";

/*
 * A stored mailbox password is only ever sent to the endpoint it was entered for: the host, port,
 * security and certificate trust of its server, and its login. So a server's endpoint is frozen while
 * any job (deleted ones included: they still hold their passwords) refers to it; jobs move to another
 * server or login only with their passwords entered again (editJob). Otherwise one server edit and a
 * bulk rerun would hand every password stored against that server to whoever the editor points it at.
 */

/** The fields of a server that decide where a password goes. */
export interface ServerEndpoint {
  host: string;
  port: number;
  security: ServerRow["security"];
  accept_self_signed: boolean;
}

/**
 * Whether `next` sends credentials somewhere `current` would not. Host names compare without case
 * (DNS does); trusting self-signed certificates is a change, distrusting them again is not.
 */
export function endpointMoves(current: ServerEndpoint, next: Partial<ServerEndpoint>): boolean {
  return (
    (next.host !== undefined && next.host.toLowerCase() !== current.host.toLowerCase()) ||
    (next.port !== undefined && next.port !== current.port) ||
    (next.security !== undefined && next.security !== current.security) ||
    (next.accept_self_signed === true && !current.accept_self_signed)
  );
}

/**
 * FOR SHARE on the servers a job's passwords are being bound to. assertEndpointMayMove runs under FOR
 * UPDATE on the server row, so a job written meanwhile is either counted there or sees the new endpoint.
 */
export async function lockServersForShare(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  await db.selectFrom("servers").select("id").where("id", "in", unique).orderBy("id").forShare().execute();
}

/** Refuses (CONFLICT) to move the endpoint of a server that jobs hold passwords for. Run under FOR UPDATE. */
export async function assertEndpointMayMove(
  db: Kysely<Database>,
  server: ServerEndpoint & { id: number; name: string },
): Promise<void> {
  const used = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where((eb) => eb.or([eb("source_server_id", "=", server.id), eb("dest_server_id", "=", server.id)]))
    .executeTakeFirstOrThrow();
  const n = Number(used.n);
  if (n === 0) return;
  throw new ImapferryError(
    "CONFLICT",
    `The server "${server.name}" holds the passwords of ${n} job${n === 1 ? "" : "s"}, entered for ${server.host}:${server.port} (${server.security}). Its host, port, security and certificate trust cannot change while they do: add a new server for the new address and move the jobs to it with their passwords, or hard-delete the jobs first.`,
    [{ path: ["host"], message: `in use by ${n} job${n === 1 ? "" : "s"} with stored passwords` }],
  );
}
