export type { ApiToken, TokenCaller } from "./api-tokens.ts";
export {
  API_TOKEN_PREFIX,
  createApiToken,
  listApiTokens,
  resolveApiToken,
  revokeApiToken,
} from "./api-tokens.ts";
export type { LoginAttempt, LoginRateLimits } from "./login-rate-limiter.ts";
export { DEFAULT_LOGIN_RATE_LIMITS, LoginRateLimiter } from "./login-rate-limiter.ts";
export { generatePassword } from "./password-hash.ts";
export type { Permission, TokenScope } from "./permissions.ts";
export { assertAllowed, assertNotWider, isAllowed } from "./permissions.ts";
export type { CreateApiTokenInput, LoginInput } from "./schemas.ts";
export { createApiTokenInputSchema, loginInputSchema, newPasswordSchema, usernameSchema } from "./schemas.ts";
export type { NewSession, Principal } from "./sessions.ts";
export { createSession, DEFAULT_SESSION_TTL_MS, endSession, resolveSession } from "./sessions.ts";
export { assertBatchInScope, assertJobsInScope, scopedTenant, tenantsOfJobs } from "./tenant-scope.ts";
export type { User } from "./users.ts";
export {
  createUser,
  ensureInitialAdmin,
  INITIAL_ADMIN_USERNAME,
  listUsers,
  resetPassword,
  verifyCredentials,
} from "./users.ts";
