/**
 * Lines of imapsync's output (and the built-in engine's, which prints the same shapes) that describe
 * the machine imapferry runs on: host name, RAM, load, process and user ids, directories, Perl and its
 * modules, the command line, local addresses. An operator needs them; a hosting customer's token
 * does not (and should not learn the installation's insides from them). Browser-safe: plain patterns.
 */
export const HOST_DETAIL_PATTERNS: readonly RegExp[] = [
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
];

export function isHostDetail(line: string): boolean {
  return HOST_DETAIL_PATTERNS.some((pattern) => pattern.test(line));
}

/** The text without its host-detail lines (whole lines, line breaks included). */
export function withoutHostDetails(text: string): string {
  if (text === "") return text;
  const lines = text.split(/(?<=\n)/);
  return lines.filter((line) => !isHostDetail(line.replace(/\r?\n$/, ""))).join("");
}
