export type { ServerInput, ServerView, UpdateServerInput } from "./servers.ts";
export {
  createServer,
  createServerInputSchema,
  deleteServer,
  getServer,
  getServerForTest,
  listServers,
  serverIdInputSchema,
  serverInputSchema,
  toServerView,
  updateServer,
  updateServerInputSchema,
} from "./servers.ts";
