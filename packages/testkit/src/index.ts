export type { LaunchBrowserOptions, NewPageOptions, TestBrowser } from "./browser/index.ts";
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH, launchBrowser } from "./browser/index.ts";
export type {
  AddUserOptions,
  GeneratedMailbox,
  GeneratedMessage,
  GenerateLargeMailboxOptions,
  ImapCredentials,
  ImapPair,
  ImapServer,
  ImapSessionEvent,
  MailboxFolderSnapshot,
  MailboxMessageSnapshot,
  MailboxSnapshot,
  MailboxSpec,
  ReadMailboxOptions,
  SeedFolder,
  SeedMessage,
  StartImapServerOptions,
} from "./imap/index.ts";
export {
  corpusDir,
  corpusMessage,
  corpusMessageNames,
  freeClosedPort,
  freePort,
  generateLargeMailbox,
  maxConcurrentSessionsFromLog,
  parseImapSessionEvents,
  readMailbox,
  seedMailbox,
  snapshotOfSpec,
  standardMailboxSpec,
  startImapPair,
  startImapServer,
  unidentifiableMailboxSpec,
} from "./imap/index.ts";
export type { CountingProxy, ImapFaultProxy, TcpProxy } from "./net/index.ts";
export { startCountingProxy, startImapFaultProxy, startTcpProxy } from "./net/index.ts";
export type {
  IssuedToken,
  OAuth2Grant,
  OAuth2TokenServer,
  ServiceAccountKeyJson,
} from "./oauth2/token-server.ts";
export { startOAuth2TokenServer } from "./oauth2/token-server.ts";
export { ensurePhp } from "./php.ts";
export type { ReceivedMail, SmtpTestServer, StartSmtpServerOptions } from "./smtp/index.ts";
export { startSmtpServer } from "./smtp/index.ts";
