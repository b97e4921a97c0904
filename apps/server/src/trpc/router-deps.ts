import type { EventHub, LoginRateLimiter, OwnerLinkConfig, ServiceContext } from "@imapferry/core";
import type { HealthReport } from "../http/health.ts";
import type { LogReader } from "../live/coalescing-log-reader.ts";
import type { WatchRecorder } from "../live/watch-recorder.ts";

/** The server-side things procedures need, handed over outside the typed context (see ApiRequestContext). */
export interface RouterDeps {
  ctx: ServiceContext;
  hub: EventHub;
  logReader: LogReader;
  watches: WatchRecorder;
  loginLimiter: LoginRateLimiter;
  health(): Promise<HealthReport>;
  /** IMAPFERRY_PUBLIC_URL: what redirect URIs are built from. */
  publicUrl: string;
  /** Where mailbox owners' links point, and whether they can be emailed. */
  ownerLinks: OwnerLinkConfig;
}
