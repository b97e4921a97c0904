export type { TcpProxy } from "./tcp-proxy.ts";
export { startTcpProxy } from "./tcp-proxy.ts";
