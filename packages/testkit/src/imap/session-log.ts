/** One logged-in IMAP session starting or ending, as Dovecot's log tells it. */
export interface ImapSessionEvent {
  kind: "login" | "logout";
  user: string;
  session: string;
  /** Index of the line in the log, which is the order Dovecot's log process wrote them in. */
  line: number;
  /** The line's timestamp (ms since the epoch; NaN when the line has none). */
  at: number;
}

// The log_timestamp the harness configures: "2026-01-01 10:00:01.000001 "
const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})/;

function timestampOf(line: string): number {
  const match = TIMESTAMP.exec(line);
  return match ? Date.parse(`${match[1]}T${match[2]}`) : Number.NaN;
}

// imap-login: Info: Login: user=<alice@example.com>, method=PLAIN, rip=…, mpid=123, TLS, session=<abc>
const LOGIN_LINE = /\bimap-login: Info: Login: user=<([^>]*)>.*?\bmpid=(\d+).*\bsession=<([^>]+)>/;
// imap(alice@example.com)<123><abc>: Info: Disconnected: Logged out in=… (also "Connection closed", shutdown …)
const END_LINE = /\bimap\((.*?)\)<(\d+)><([^>]+)>: \w+: (?:Disconnected|Logged out|Connection closed)/;
// master: Error: service(imap): child 123 killed with signal 9 — a session that could not log its end.
const CHILD_GONE_LINE = /\bservice\(imap\): child (\d+) (?:killed|returned)/;

/** Login and session-end events in log order, read from a Dovecot log with the default log formats. */
export function parseImapSessionEvents(logText: string): ImapSessionEvent[] {
  const events: ImapSessionEvent[] = [];
  const openByPid = new Map<string, { user: string; session: string }>();
  const lines = logText.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    const login = LOGIN_LINE.exec(line);
    if (login) {
      const [, user = "", pid = "", session = ""] = login;
      openByPid.set(pid, { user, session });
      events.push({ kind: "login", user, session, line: index, at: timestampOf(line) });
      continue;
    }
    const end = END_LINE.exec(line);
    if (end) {
      const [, user = "", pid = "", session = ""] = end;
      openByPid.delete(pid);
      events.push({ kind: "logout", user, session, line: index, at: timestampOf(line) });
      continue;
    }
    const gone = CHILD_GONE_LINE.exec(line);
    const crashed = gone ? openByPid.get(gone[1] ?? "") : undefined;
    if (gone && crashed) {
      openByPid.delete(gone[1] ?? "");
      events.push({ kind: "logout", ...crashed, line: index, at: timestampOf(line) });
    }
  }
  return events;
}

/**
 * The highest number of IMAP sessions logged in at the same time: of `user`, or of all users together
 * when no user is given (what a per-server connection limit is about). A session counts from its Login
 * line to its end line; one whose end is not logged yet is still open.
 *
 * `endSlackMs` counts a session as ended that much before its end line. Dovecot logs a session's end
 * from its own imap process, a little after the client has seen the LOGOUT answer, and on a loaded
 * machine that line can come after the next client's Login although the client had already finished.
 * A slack well below a session's length forgives that lag and still catches a session too many.
 */
export function maxConcurrentSessionsFromLog(
  logText: string,
  user?: string,
  options: { endSlackMs?: number } = {},
): number {
  const slack = options.endSlackMs ?? 0;
  const events = parseImapSessionEvents(logText).filter((e) => user === undefined || e.user === user);
  const loginAt = new Map(events.filter((e) => e.kind === "login").map((e) => [e.session, e.at]));
  const timeline =
    slack > 0
      ? events
          .map((e) => ({
            ...e,
            // Never before its own login.
            at: e.kind === "logout" ? Math.max(e.at - slack, loginAt.get(e.session) ?? e.at) : e.at,
          }))
          .sort((a, b) => a.at - b.at || tieOrder(a, b))
      : events;
  const open = new Set<string>();
  let max = 0;
  for (const event of timeline) {
    if (event.kind === "login") {
      open.add(event.session);
      max = Math.max(max, open.size);
    } else {
      open.delete(event.session);
    }
  }
  return max;
}

/** At one instant: a session's login before its own end; other ends before logins; else log order. */
function tieOrder(a: ImapSessionEvent, b: ImapSessionEvent): number {
  if (a.kind === b.kind) return a.line - b.line;
  if (a.session === b.session) return a.kind === "login" ? -1 : 1;
  return a.kind === "logout" ? -1 : 1;
}
