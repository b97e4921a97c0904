import { HOST_DETAIL_PATTERNS } from "@imapferry/core/schemas";

/**
 * Lines of imapsync's output (and the built-in engine's, which prints the same shapes) that are
 * advice to imapsync's own users or describe the machine it runs on: Docker and `--noid` hints, the
 * host's RAM, load, PID and uid, the Perl modules list, the raw IMAP ID exchange. The log view hides
 * them unless asked to show everything; the downloaded log keeps every line.
 */
const NOISE_PATTERNS: readonly RegExp[] = [
  // The machine: host name, RAM, load, process and user ids, directories, Perl and its modules (the
  // server leaves these out altogether for tokens that are not admin).
  ...HOST_DETAIL_PATTERNS,
  // Advice meant for people running imapsync by hand.
  /^Docker context detected/,
  /^No log by default in Docker context/,
  /^Under docker context/,
  /^No log file because of option --nolog/,
  /^In order to avoid sending\/receiving ID, use option --noid/,
  /^Host[12]: found ID capability/,
  /^Sending: \d+ ID \(/,
  /^Sent \d+ bytes$/,
  /^Read: \s*\* ID \(/,
  /^\s+\d+ OK ID completed/,
  /^Info: .* Use --no\w+ to /,
  /^Host[12]: .* Use --\w+ to (disable|allow|avoid)/,
  /^Host[12]: Compression is off\. Use --compress/,
  /^Check if a new imapsync release is available/,
  /^Homepage: https:\/\/imapsync\.lamiral\.info/,
];

/** Whether the log view hides this line by default (see NOISE_PATTERNS). */
export function isEngineNoise(line: string): boolean {
  return NOISE_PATTERNS.some((pattern) => pattern.test(line));
}
