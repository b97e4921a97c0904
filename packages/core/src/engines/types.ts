import type { ServerSecurity } from "@imapferry/db";

/** One side of a migration as the engine sees it. The password only ever travels in the environment. */
export interface EndpointSpec {
  host: string;
  port: number;
  security: ServerSecurity;
  acceptSelfSigned: boolean;
  user: string;
  password: string;
}

/** Everything an engine run needs. Built by the job system from a job row and its servers. */
export interface MigrationSpec {
  source: EndpointSpec;
  destination: EndpointSpec;
  dryRun: boolean;
  justLogin?: boolean;
  /** Operator-visible options, validated against the allow-list (see engines/options.ts). */
  options: Record<string, unknown>;
}

export type EngineKind = "imapsync" | "builtin";
