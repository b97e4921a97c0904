/**
 * The exit codes imapferry-sync shares with imapsync 2.229 (its EXIT_* constants), so one
 * exit-code table and one output parser serve both engines. Only the codes this engine can
 * produce are listed; the full table lives with the imapsync runner.
 */
export const SYNC_EXIT = {
  ok: 0,
  bySignal: 6,
  tlsFailure: 12,
  usage: 64,
  software: 70,
  connectionFailureHost1: 101,
  connectionFailureHost2: 102,
  withErrors: 111,
  withErrorsMax: 112,
  overQuota: 113,
  appendError: 114,
  fetchError: 115,
  createError: 116,
  selectError: 117,
  transferExceeded: 118,
  authenticationFailureUser1: 161,
  authenticationFailureUser2: 162,
} as const;

export type SyncExitCode = (typeof SYNC_EXIT)[keyof typeof SYNC_EXIT];

/** The text imapsync prints in parentheses on its `Exiting with return value N (…)` line. */
const EXIT_NAMES: Record<SyncExitCode, string> = {
  0: "EX_OK: successful termination",
  6: "EXIT_BY_SIGNAL",
  12: "EXIT_TLS_FAILURE",
  64: "EX_USAGE: command line usage error",
  70: "EX_SOFTWARE: internal software error",
  101: "EXIT_CONNECTION_FAILURE_HOST1",
  102: "EXIT_CONNECTION_FAILURE_HOST2",
  111: "EXIT_WITH_ERRORS",
  112: "EXIT_WITH_ERRORS_MAX",
  113: "EXIT_OVERQUOTA",
  114: "EXIT_ERR_APPEND",
  115: "EXIT_ERR_FETCH",
  116: "EXIT_ERR_CREATE",
  117: "EXIT_ERR_SELECT",
  118: "EXIT_TRANSFER_EXCEEDED",
  161: "EXIT_AUTHENTICATION_FAILURE_USER1",
  162: "EXIT_AUTHENTICATION_FAILURE_USER2",
};

export function exitCodeName(code: SyncExitCode): string {
  return EXIT_NAMES[code];
}
