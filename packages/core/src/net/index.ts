export { parseAddressRanges } from "./address-ranges.ts";
export type { HostDenyList } from "./deny-hosts.ts";
export {
  assertHostFieldAllowed,
  DENIED_HOST_SENTENCE,
  DeniedHostError,
  PRIVATE_RANGES,
  parseDenyHosts,
} from "./deny-hosts.ts";
