/**
 * Lines of imapsync's output (and the built-in engine's, which prints the same shapes) that are
 * advice to imapsync's own users or describe the machine it runs on: Docker and `--noid` hints, the
 * host's RAM, load, PID and uid, the Perl modules list, the raw IMAP ID exchange. The log view hides
 * them unless asked to show everything; the downloaded log keeps every line.
 */
const NOISE_PATTERNS: readonly RegExp[] = [
  // The machine: host name, RAM, load, process and user ids, directories, Perl and its modules.
  /^Here is \S+ \S+ .*on host /,
  /^with Perl \d/,
  /^PID is \d+/,
  /^Load (end )?is /,
  /^(Changing current|Current) directory (to|is) /,
  /^(Real|Effective) user id is /,
  /^Temp directory is /,
  /^\$RCSfile: /,
  /^Command line used, run by /,
  /^\S*imapsync --/,
  /^kill -[A-Z]+ \d+ # /,
  /^No variable pid_filename/,
  /^PID file is /,
  /^Modules version list/,
  /^[A-Z][A-Za-z0-9]*(::[A-Za-z0-9]+)+\s+v?\d[\d._]*\s*$/,
  /^[A-Z][A-Za-z0-9]+\s{2,}v?\d[\d._]*\s*$/,
  /^Memory consumption at the end/,
  /^CPU time and %cpu/,
  /^Strange: cpu_time/,
  /^Host[12] IP address: .* Local IP address: /,
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
