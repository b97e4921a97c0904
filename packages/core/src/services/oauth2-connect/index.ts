export type {
  CallbackOutcome,
  CallbackParams,
  ConnectionOwner,
  ConnectionStatus,
  ConnectionView,
  StartedConnection,
} from "./connections.ts";
export { completeConnection, getConnection, startConnection, takeConnection } from "./connections.ts";

export { connectionIdInputSchema, startConnectionInputSchema } from "./schemas.ts";
