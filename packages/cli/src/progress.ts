import cliProgress from "cli-progress";
import type { Output } from "./output.ts";

/** One line of progress: a bar on a terminal, plain lines (only when something changed) in a log or pipe. */
export interface ProgressLine {
  update(done: number, total: number | null, text: string): void;
  /** Leaves the last state on screen and prints `summary` under it. */
  stop(summary?: string): void;
}

/** Plain lines at most this often (status changes excepted), so a CI log stays readable. */
const PLAIN_LINE_INTERVAL_MS = 5000;

export function progressLine(out: Output, label: string): ProgressLine {
  if (out.stderr.isTTY && !out.json) return terminalBar(out, label);
  return plainLines(out, label);
}

function terminalBar(out: Output, label: string): ProgressLine {
  const bar = new cliProgress.SingleBar(
    {
      stream: out.stderr as NodeJS.WritableStream as NodeJS.WriteStream,
      format: `${label} {bar} {value}/{total}  {text}`,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, text) {
      const size = total ?? Math.max(done, 1);
      if (!started) {
        bar.start(size, done, { text });
        started = true;
      } else {
        bar.setTotal(size);
        bar.update(done, { text });
      }
    },
    stop(summary) {
      if (started) bar.stop();
      if (summary) out.stderr.write(`${summary}\n`);
    },
  };
}

function plainLines(out: Output, label: string): ProgressLine {
  let lastText: string | null = null;
  let lastLine = "";
  let lastAt = 0;
  return {
    update(done, total, text) {
      const line = `${label} ${total === null ? done : `${done}/${total}`}  ${text}`;
      const now = Date.now();
      // A changed text (a status, a folder) is news; a moving count alone only every few seconds.
      const news = text !== lastText;
      if (line === lastLine || (!news && now - lastAt < PLAIN_LINE_INTERVAL_MS)) return;
      out.stderr.write(`${line}\n`);
      lastText = text;
      lastLine = line;
      lastAt = now;
    },
    stop(summary) {
      if (summary) out.stderr.write(`${summary}\n`);
    },
  };
}
