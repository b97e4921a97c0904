import { ImapferryError } from "../errors.ts";

/**
 * This worker cannot decrypt a job's passwords: it lacks the key they were encrypted with (a key
 * rotation not rolled out to every machine). The sentence says so instead of blaming the mailbox.
 */
export class WorkerKeyError extends ImapferryError {
  /** The machine whose worker lacks the key. */
  readonly hostname: string;
  /** Why decryption failed, as the vault put it. */
  readonly reason: string;

  constructor(hostname: string, reason: string) {
    super(
      "CONFIG",
      `The worker on ${hostname} cannot decrypt this job's passwords (${reason}) Give every worker the same IMAPFERRY_SECRET_KEY, then rerun the job.`,
    );
    this.name = "WorkerKeyError";
    this.hostname = hostname;
    this.reason = reason;
  }
}
