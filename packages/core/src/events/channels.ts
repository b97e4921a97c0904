/**
 * The NOTIFY channels every imapferry process speaks. Payloads are small JSON (PostgreSQL caps a
 * payload at 8000 bytes): a log event carries its text only when it fits, otherwise readers fetch the
 * chunk by offset.
 */
export const CHANNELS = {
  /** A log chunk was appended. */
  log: "imapferry_log",
  /** A job's status or progress changed. */
  job: "imapferry_job",
  /** Stop a running job's engine, wherever it runs. */
  cancel: "imapferry_cancel",
  /** End a running job's in-process wait for a throttling server now ("Resume now"). */
  resume: "imapferry_resume",
  /** A user's session ended, token was revoked or password reset: their open streams check again. */
  credentials: "imapferry_credentials",
} as const;

export interface LogEvent {
  jobId: number;
  /** Byte offset of the chunk's first byte. */
  offset: number;
  /** Length of the chunk in UTF-8 bytes. */
  bytes: number;
  /** The chunk itself, when it fits in a NOTIFY payload. */
  text?: string;
}

export interface JobEvent {
  jobId: number;
  batchId: number | null;
  status: string;
  /** The job's progress object (JobProgress), when the event is a progress update. */
  progress?: unknown;
  /** While waiting: when the job resumes (ISO time), also for a wait the engine spends in process. */
  resumeAt?: string | null;
}

export interface CancelEvent {
  jobId: number;
}

export interface ResumeEvent {
  jobId: number;
}

export interface CredentialsEvent {
  /** Whose session or token may have stopped working. */
  userId: number;
}

/** Text above this many bytes is left out of a log NOTIFY payload (the JSON envelope needs the rest). */
export const MAX_INLINE_LOG_BYTES = 7000;
