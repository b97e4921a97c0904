import path from "node:path";
import {
  errorMessage,
  parseAddressRanges,
  parseDenyHosts,
  type SmtpConfig,
  smtpConfigSchema,
} from "@imapferry/core";
import { z } from "zod";

/** A comma-separated list, each entry checked by `parse` (which throws a sentence naming a bad entry). */
function commaList(parse: (entries: string[]) => unknown) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const entries = (value ?? "")
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry !== "");
      try {
        parse(entries);
      } catch (e: unknown) {
        ctx.addIssue({ code: "custom", message: errorMessage(e).replace(/\.$/, "") });
        return z.NEVER;
      }
      return entries;
    });
}

/**
 * Every environment variable imapferry reads, validated in one place. Nothing else reads process.env:
 * values are passed down from here.
 */
const envSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  IMAPFERRY_DATA_DIR: z.string().min(1).default("./.imapferry"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  IMAPFERRY_PUBLIC_URL: z.string().url().optional(),
  IMAPFERRY_SECRET_KEY: z.string().min(1).optional(),
  IMAPFERRY_ENGINE: z.enum(["imapsync", "builtin", "auto"]).default("auto"),
  IMAPSYNC_BIN: z.string().min(1).optional(),
  IMAPFERRY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  IMAPFERRY_POOL: z.string().min(1).max(100).optional(),
  SMTP_URL: z.string().min(1).optional(),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  SMTP_USER: z.string().min(1).optional(),
  SMTP_PASSWORD: z.string().min(1).optional(),
  SMTP_SECURE: z
    .enum(["true", "false", "1", "0"])
    .transform((v) => v === "true" || v === "1")
    .optional(),
  NOTIFY_FROM: z.string().min(1).optional(),
  IMAPFERRY_WEB_ROOT: z.string().min(1).optional(),
  IMAPFERRY_TRUSTED_PROXIES: commaList(parseAddressRanges),
  IMAPFERRY_DENY_HOSTS: commaList(parseDenyHosts),
  IMAPFERRY_WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0.1).max(3600).optional(),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  publicUrl: string;
  secretKey: string | undefined;
  engine: "imapsync" | "builtin" | "auto";
  imapsyncBin: string | undefined;
  workerConcurrency: number | undefined;
  pool: string | undefined;
  /** Undefined when neither SMTP_URL nor SMTP_HOST is set: notifications are then off. */
  smtp: SmtpConfig | undefined;
  notifyFrom: string;
  /** Folder with the built panel (apps/web/dist). */
  webRoot: string;
  /** Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto count (addresses or CIDR ranges). */
  trustedProxies: string[];
  /**
   * Server hosts imapferry refuses to connect to: addresses, CIDR ranges and `private` (loopback,
   * private and link-local ranges), for an installation whose users must not reach its own network.
   */
  denyHosts: string[];
  /** The first webhook retry's delay before jitter, doubling per failure. @defaultValue 30 s */
  webhookRetryBaseMs: number | undefined;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "environment");
    throw new ConfigError(`Environment variable ${name} is invalid: ${issue?.message ?? "unknown problem"}.`);
  }
  const e = parsed.data;
  const smtp = e.SMTP_URL || e.SMTP_HOST ? parseSmtp(e) : undefined;
  const displayHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "localhost" : e.HOST;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.IMAPFERRY_DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.IMAPFERRY_PUBLIC_URL ?? `http://${displayHost}:${e.PORT}`).replace(/\/+$/, ""),
    secretKey: e.IMAPFERRY_SECRET_KEY,
    engine: e.IMAPFERRY_ENGINE,
    imapsyncBin: e.IMAPSYNC_BIN,
    workerConcurrency: e.IMAPFERRY_WORKER_CONCURRENCY,
    pool: e.IMAPFERRY_POOL,
    smtp,
    notifyFrom: e.NOTIFY_FROM ?? "imapferry <imapferry@localhost>",
    trustedProxies: e.IMAPFERRY_TRUSTED_PROXIES,
    denyHosts: e.IMAPFERRY_DENY_HOSTS,
    webhookRetryBaseMs:
      e.IMAPFERRY_WEBHOOK_RETRY_BASE_SECONDS === undefined
        ? undefined
        : e.IMAPFERRY_WEBHOOK_RETRY_BASE_SECONDS * 1000,
    webRoot: path.resolve(e.IMAPFERRY_WEB_ROOT ?? path.join(import.meta.dirname, "../../web/dist")),
  };
}

type ParsedEnv = z.infer<typeof envSchema>;

/** SMTP settings go through the notification system's own schema, so a bad SMTP_URL stops the start. */
function parseSmtp(e: ParsedEnv): SmtpConfig {
  const parsed = smtpConfigSchema.safeParse({
    url: e.SMTP_URL,
    host: e.SMTP_HOST,
    port: e.SMTP_PORT,
    user: e.SMTP_USER,
    password: e.SMTP_PASSWORD,
    secure: e.SMTP_SECURE,
  });
  if (!parsed.success) {
    // The zod message names the field; the value itself (which may hold a password) is never echoed.
    throw new ConfigError(
      `SMTP settings are invalid: ${parsed.error.issues[0]?.message ?? "unknown problem"}.`,
    );
  }
  return parsed.data;
}
