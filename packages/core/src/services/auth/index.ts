export type { ApiToken, CreateApiTokenInput } from "./api-tokens.ts";
export {
  API_TOKEN_PREFIX,
  createApiToken,
  createApiTokenInputSchema,
  listApiTokens,
  resolveApiToken,
  revokeApiToken,
} from "./api-tokens.ts";
export type { LoginRateLimits } from "./login-rate-limiter.ts";
export { DEFAULT_LOGIN_RATE_LIMITS, LoginRateLimiter } from "./login-rate-limiter.ts";
export { generatePassword, hashPassword, verifyPassword } from "./password-hash.ts";
export type { NewSession, Principal } from "./sessions.ts";
export { createSession, DEFAULT_SESSION_TTL_MS, endSession, resolveSession } from "./sessions.ts";
export type { LoginInput, User } from "./users.ts";
export {
  createUser,
  ensureInitialAdmin,
  INITIAL_ADMIN_USERNAME,
  listUsers,
  loginInputSchema,
  newPasswordSchema,
  resetPassword,
  usernameSchema,
  verifyCredentials,
} from "./users.ts";
