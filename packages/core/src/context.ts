import type { Database } from "@imapferry/db";
import type { Kysely } from "kysely";
import type pg from "pg";
import type { HostDenyList } from "./net/deny-hosts.ts";

/** Encrypts credentials at rest. Implemented in vault/; services only ever see this shape. */
export interface Vault {
  /** Id of the key new values are encrypted with. */
  readonly currentKeyId: string;
  encrypt(plaintext: string): string;
  /** Throws ImapferryError("CONFIG") for an unknown key id, a wrong key or a tampered value. */
  decrypt(stored: string): string;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Clock {
  now(): Date;
}

/**
 * What every core service receives explicitly (no globals, no process.env reads).
 * `pool` is the pg pool behind `db`: graphile-worker and LISTEN connections need raw clients.
 */
export interface ServiceContext {
  db: Kysely<Database>;
  pool: pg.Pool;
  vault: Vault;
  log: Logger;
  clock: Clock;
  /** Server hosts imapferry must not connect to (IMAPFERRY_DENY_HOSTS). @defaultValue none denied */
  denyHosts?: HostDenyList;
}

export const systemClock: Clock = { now: () => new Date() };

/** A logger that prints one JSON line per event to stderr: greppable, and safe to ship to a collector. */
export function createConsoleLogger(base: Record<string, unknown> = {}): Logger {
  function write(level: string, message: string, fields?: Record<string, unknown>): void {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields })}\n`,
    );
  }
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
