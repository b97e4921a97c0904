export type { ServerInput, UpdateServerInput } from "./schemas.ts";
export {
  createServerInputSchema,
  serverIdInputSchema,
  serverInputSchema,
  updateServerInputSchema,
} from "./schemas.ts";
export type { ServerView } from "./servers.ts";
export {
  createServer,
  deleteServer,
  getServer,
  getServerForTest,
  listServers,
  updateServer,
} from "./servers.ts";
