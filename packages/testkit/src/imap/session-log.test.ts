import { describe, expect, it } from "vitest";
import { maxConcurrentSessionsFromLog } from "./session-log.ts";

const log = [
  "2026-01-01 10:00:00.000001 master: Info: Dovecot v2.3.19.1 starting up for imap",
  "2026-01-01 10:00:01.000001 imap-login: Info: Login: user=<a@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=11, TLS, session=<s1>",
  "2026-01-01 10:00:01.000002 imap-login: Info: Login: user=<a@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=12, TLS, session=<s2>",
  "2026-01-01 10:00:01.000003 imap-login: Info: Login: user=<b@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=13, session=<s3>",
  "2026-01-01 10:00:02.000001 imap(a@example.com)<11><s1>: Info: Disconnected: Logged out in=10 out=20",
  "2026-01-01 10:00:02.000002 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 0 secs): user=<a@example.com>, method=PLAIN, rip=127.0.0.1, session=<s9>",
  "2026-01-01 10:00:03.000001 imap-login: Info: Login: user=<a@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=14, TLS, session=<s4>",
  "2026-01-01 10:00:04.000001 imap(a@example.com)<12><s2>: Info: Disconnected: Connection closed (UID FETCH finished 0.1 secs ago) in=1 out=2",
  "2026-01-01 10:00:04.000002 imap(a@example.com)<14><s4>: Info: Disconnected: Server shutting down in=1 out=2",
  "2026-01-01 10:00:05.000001 imap-login: Info: Login: user=<c@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=15, session=<s5>",
  "2026-01-01 10:00:05.000002 master: Error: service(imap): child 15 killed with signal 9",
  "2026-01-01 10:00:06.000001 imap-login: Info: Login: user=<c@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=16, session=<s6>",
  "",
].join("\n");

describe("maxConcurrentSessionsFromLog", () => {
  it("counts overlapping logins of one user from Login to Disconnected", () => {
    expect(maxConcurrentSessionsFromLog(log, "a@example.com")).toBe(2);
    expect(maxConcurrentSessionsFromLog(log, "b@example.com")).toBe(1);
    expect(maxConcurrentSessionsFromLog(log, "d@example.com")).toBe(0);
  });

  it("ends a session whose imap process was killed before it could log out", () => {
    expect(maxConcurrentSessionsFromLog(log, "c@example.com")).toBe(1);
  });

  it("counts all users together when no user is given", () => {
    expect(maxConcurrentSessionsFromLog(log)).toBe(3);
  });

  it("with endSlackMs, forgives an end line logged just after the next Login, not a real overlap", () => {
    const lagged = [
      "2026-01-01 10:00:00.000001 imap-login: Info: Login: user=<a@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=21, session=<t1>",
      "2026-01-01 10:00:00.500001 imap-login: Info: Login: user=<b@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=22, session=<t2>",
      // t3 logs in 40 ms before t1's end is logged: the log's lag, not a third session.
      "2026-01-01 10:00:01.960001 imap-login: Info: Login: user=<c@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=23, session=<t3>",
      "2026-01-01 10:00:02.000001 imap(a@example.com)<21><t1>: Info: Disconnected: Logged out in=1 out=2",
      // t5 lasts 20 ms: shorter than the slack, it still counts from its login to its end.
      "2026-01-01 10:00:02.010001 imap-login: Info: Login: user=<e@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=25, session=<t5>",
      "2026-01-01 10:00:02.030001 imap(e@example.com)<25><t5>: Info: Disconnected: Logged out in=1 out=2",
      // t4 overlaps t2 and t3 for a whole second: three sessions, whatever the slack.
      "2026-01-01 10:00:02.100001 imap-login: Info: Login: user=<d@example.com>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=24, session=<t4>",
      "2026-01-01 10:00:03.100001 imap(b@example.com)<22><t2>: Info: Disconnected: Logged out in=1 out=2",
      "",
    ].join("\n");
    expect(maxConcurrentSessionsFromLog(lagged.split("\n").slice(0, 4).join("\n"))).toBe(3);
    expect(
      maxConcurrentSessionsFromLog(lagged.split("\n").slice(0, 4).join("\n"), undefined, { endSlackMs: 250 }),
    ).toBe(2);
    expect(maxConcurrentSessionsFromLog(lagged, undefined, { endSlackMs: 250 })).toBe(3);
  });
});
