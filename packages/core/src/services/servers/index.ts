export type { ServerAdminCredentials } from "./admin-credentials.ts";
export {
  adminCredentialsOf,
  endpointCredentials,
  hasAdminCredentials,
  MissingCredentialsError,
} from "./admin-credentials.ts";
export type { ServerAdminInput, ServerInput, UpdateServerInput } from "./schemas.ts";
export {
  createServerInputSchema,
  serverAdminInputSchema,
  serverIdInputSchema,
  serverInputSchema,
  updateServerInputSchema,
} from "./schemas.ts";
export type { ServerAdminView, ServerConnectView, ServerView } from "./servers.ts";
export {
  createServer,
  deleteServer,
  getServer,
  getServerForTest,
  listServers,
  updateServer,
  withoutAdminLogin,
} from "./servers.ts";
