export type { CancelEvent, CredentialsEvent, JobEvent, LogEvent } from "./channels.ts";
export { CHANNELS, MAX_INLINE_LOG_BYTES } from "./channels.ts";
export type { ChannelName, ChannelPayloads, EventHub, EventHubOptions, Unsubscribe } from "./hub.ts";
export { createEventHub } from "./hub.ts";
