import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A run's log text that could not reach the database yet, kept in a private temporary file instead of
 * memory once there is a lot of it (a long database outage under a chatty engine). First in, first
 * out: text is appended at the end and read back from the front, whole lines where it can.
 */
export class LogSpill {
  private readonly dir: string;
  private readonly fd: number;
  private writeOffset = 0;
  private readOffset = 0;

  constructor(parentDir = tmpdir()) {
    // mkdtemp makes a 0700 directory: the log names mailboxes and folders; nobody else reads it.
    this.dir = mkdtempSync(path.join(parentDir, "imapferry-log-spill-"));
    this.fd = openSync(path.join(this.dir, "pending.log"), "w+", 0o600);
  }

  /** Bytes waiting in the file. */
  get bytes(): number {
    return this.writeOffset - this.readOffset;
  }

  append(text: string): void {
    const data = Buffer.from(text, "utf8");
    let done = 0;
    while (done < data.length)
      done += writeSync(this.fd, data, done, data.length - done, this.writeOffset + done);
    this.writeOffset += data.length;
  }

  /** The oldest text, at most about `maxBytes`, cut after a line break (or a whole UTF-8 character). */
  peek(maxBytes: number): { text: string; bytes: number } {
    const size = Math.min(maxBytes, this.bytes);
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) read += readSync(this.fd, buffer, read, size - read, this.readOffset + read);
    let end = size;
    if (size < this.bytes) {
      const newline = buffer.lastIndexOf(0x0a);
      if (newline >= 0) end = newline + 1;
      // No line break: do not cut a character in two (continuation bytes are 10xxxxxx).
      else while (end > 0 && ((buffer[end] ?? 0) & 0xc0) === 0x80) end--;
    }
    return { text: buffer.subarray(0, end).toString("utf8"), bytes: end };
  }

  /** Drops what peek() returned, once it is stored. */
  consume(bytes: number): void {
    this.readOffset += bytes;
  }

  dispose(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
