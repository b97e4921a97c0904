/**
 * Line shapes copied from imapsync 2.229's output (see test/fixtures/imapsync), so the output
 * parser reads the built-in engine and imapsync the same way. Widths and spacing matter: they are
 * what the fixtures show, space for space.
 */

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function two(value: number): string {
  return String(value).padStart(2, "0");
}

/** `Monday 23 November 2026-11-23 05:39:56 +0000 UTC`, always in UTC so logs compare across hosts. */
export function formatLongDate(date: Date): string {
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${WEEKDAYS[date.getUTCDay()]} ${d} ${MONTHS[m]} ${y}-${two(m + 1)}-${two(d)} ${time} +0000 UTC`;
}

const KIBI = 1024;

/** imapsync's bytes_display_string: KiB below 1000 KiB, then MiB, then GiB, three decimals. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1000 * KIBI * KIBI) {
    return `${(bytes / KIBI / KIBI / KIBI).toFixed(3)} GiB`;
  }
  if (abs >= 1000 * KIBI) {
    return `${(bytes / KIBI / KIBI).toFixed(3)} MiB`;
  }
  return `${(bytes / KIBI).toFixed(3)} KiB`;
}

/** `[Entw&APw-rfe] = [Entwürfe]` for non-ASCII names, `[INBOX]` otherwise. */
export function folderLabel(raw: string, unicode: string): string {
  return raw === unicode ? `[${raw}]` : `[${raw}] = [${unicode}]`;
}

/** `Folder     1/6 [Archive/2023]                      -> [Archive/2023]                     ` */
export function formatFolderLine(index: number, total: number, source: string, destination: string): string {
  return `Folder ${`${index}/${total}`.padStart(7)} ${source.padEnd(35)} -> ${destination.padEnd(35)}`;
}

export interface CopiedLine {
  sourceFolder: string;
  sourceUid: number;
  size: number;
  destinationFolder: string;
  destinationUid: number | undefined;
  messagesPerSecond: number;
  bytesPerSecond: number;
  bytesCopied: number;
  eta: string | undefined;
}

/** `msg Sent/1 {382}             copied to Sent/1          120.55 msgs/s  265.854 KiB/s 28.670 KiB copied ` */
export function formatCopiedLine(line: CopiedLine): string {
  const source = `${line.sourceUid} {${line.size}}`.padEnd(19);
  const destinationUid = String(line.destinationUid ?? "").padEnd(10);
  const rates = `${line.messagesPerSecond.toFixed(2)} msgs/s  ${formatBytes(line.bytesPerSecond)}/s`;
  return (
    `msg ${line.sourceFolder}/${source} copied to ${line.destinationFolder}/${destinationUid} ` +
    `${rates} ${formatBytes(line.bytesCopied)} copied ${line.eta ?? ""}`
  );
}

/** `msg INBOX/1 copying to INBOX \t(not really since --dry mode) ` */
export function formatDryCopyLine(
  sourceFolder: string,
  sourceUid: number,
  destinationFolder: string,
): string {
  return `msg ${sourceFolder}/${sourceUid} copying to ${destinationFolder} \t(not really since --dry mode) `;
}

export interface EtaInput {
  now: Date;
  elapsedSeconds: number;
  processed: number;
  total: number;
}

/** `ETA: Monday 23 November 2026-11-23 05:39:56 +0000 UTC  86 s  1999/2000 msgs left` */
export function formatEta(input: EtaInput): string {
  const left = Math.max(0, input.total - input.processed);
  const seconds = input.processed > 0 ? Math.round((left * input.elapsedSeconds) / input.processed) : 0;
  const arrival = new Date(input.now.getTime() + seconds * 1000);
  return `ETA: ${formatLongDate(arrival)}  ${seconds} s  ${left}/${input.total} msgs left`;
}

/** A statistics line: the key padded to 40 columns, then `: value`, as imapsync prints them. */
export function formatStatistic(key: string, value: string): string {
  return `${key.padEnd(40)}: ${value}`;
}
