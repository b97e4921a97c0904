/** One logged-in IMAP session starting or ending, as Dovecot's log tells it. */
export interface ImapSessionEvent {
  kind: "login" | "logout";
  user: string;
  session: string;
  /** Index of the line in the log, which is the order Dovecot's log process wrote them in. */
  line: number;
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
      events.push({ kind: "login", user, session, line: index });
      continue;
    }
    const end = END_LINE.exec(line);
    if (end) {
      const [, user = "", pid = "", session = ""] = end;
      openByPid.delete(pid);
      events.push({ kind: "logout", user, session, line: index });
      continue;
    }
    const gone = CHILD_GONE_LINE.exec(line);
    const crashed = gone ? openByPid.get(gone[1] ?? "") : undefined;
    if (gone && crashed) {
      openByPid.delete(gone[1] ?? "");
      events.push({ kind: "logout", ...crashed, line: index });
    }
  }
  return events;
}

/**
 * The highest number of IMAP sessions logged in at the same time: of `user`, or of all users together
 * when no user is given (what a per-server connection limit is about). A session counts from its Login
 * line to its end line; one whose end is not logged yet is still open.
 */
export function maxConcurrentSessionsFromLog(logText: string, user?: string): number {
  const open = new Set<string>();
  let max = 0;
  for (const event of parseImapSessionEvents(logText)) {
    if (user !== undefined && event.user !== user) continue;
    if (event.kind === "login") {
      open.add(event.session);
      max = Math.max(max, open.size);
    } else {
      open.delete(event.session);
    }
  }
  return max;
}
