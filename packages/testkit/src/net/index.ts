export type { CountingProxy } from "./counting-proxy.ts";
export { startCountingProxy } from "./counting-proxy.ts";
export type { ImapFaultProxy } from "./imap-fault-proxy.ts";
export { startImapFaultProxy } from "./imap-fault-proxy.ts";
export type { TcpProxy } from "./tcp-proxy.ts";
export { startTcpProxy } from "./tcp-proxy.ts";
