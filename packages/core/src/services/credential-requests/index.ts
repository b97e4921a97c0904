export type { IssuedLink, OwnerLinkConfig } from "./issue-link.ts";
export { CREDENTIAL_LINK_TASKS } from "./link-queue.ts";
export { credentialLinkTasks } from "./link-tasks.ts";
export { hashLinkToken, linkUrl } from "./link-token.ts";
export type { OwnerLinkState, OwnerPasswordAttempt, OwnerPasswordOutcome } from "./owner-link.ts";
export { readOwnerLink, submitOwnerPassword } from "./owner-link.ts";
export type { CredentialRequestView } from "./request-view.ts";
export type { AskOwnerInput, AskOwnersInput, SendOwnerLinkInput } from "./schemas.ts";
export {
  askOwnerSchema,
  askOwnersSchema,
  DEFAULT_LINK_HOURS,
  MAX_LINK_HOURS,
  MIN_LINK_HOURS,
  sendOwnerLinkFieldsSchema,
  sendOwnerLinkInputSchema,
} from "./schemas.ts";
export { sendOwnerLink } from "./send-owner-link.ts";
