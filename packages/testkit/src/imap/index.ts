export {
  corpusDir,
  corpusMessage,
  corpusMessageNames,
  standardMailboxSpec,
  unidentifiableMailboxSpec,
} from "./corpus.ts";
export type {
  AddUserOptions,
  ImapCredentials,
  ImapPair,
  ImapServer,
  StartImapServerOptions,
} from "./dovecot.ts";
export { startImapPair, startImapServer } from "./dovecot.ts";
export type {
  GeneratedMailbox,
  GeneratedMessage,
  GenerateLargeMailboxOptions,
} from "./generate.ts";
export { generateLargeMailbox } from "./generate.ts";
export type {
  MailboxFolderSnapshot,
  MailboxMessageSnapshot,
  MailboxSnapshot,
  MailboxSpec,
  ReadMailboxOptions,
  SeedFolder,
  SeedMessage,
} from "./mailbox.ts";
export { readMailbox, seedMailbox, snapshotOfSpec } from "./mailbox.ts";
export { freeClosedPort, freePort } from "./ports.ts";
export type { ImapSessionEvent } from "./session-log.ts";
export { maxConcurrentSessionsFromLog, parseImapSessionEvents } from "./session-log.ts";
