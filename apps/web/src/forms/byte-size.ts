/**
 * Sizes as people write them in the option editor: "25 MB", "1.5 GB", "500 KB/s", "2048". Units are
 * binary (1 MB = 1024 KB), as mail providers' message limits and the panel's other sizes are; "MiB"
 * is accepted as the same. A bare number is bytes.
 */
const UNIT_POWERS: Record<string, number> = { b: 0, k: 1, m: 2, g: 3, t: 4 };
const SIZE_PATTERN = /^(\d+(?:[.,]\d+)?)\s*(?:([kmgt])i?b?|(b))?(?:\s*\/\s*s(?:ec(?:ond)?)?)?$/i;

/** Bytes for "25 MB" (or "25 MB/s" for a rate); null when the text is not a size. */
export function parseByteSize(text: string): number | null {
  const match = SIZE_PATTERN.exec(text.trim());
  if (!match?.[1]) return null;
  const value = Number(match[1].replace(",", "."));
  const unit = (match[2] ?? match[3] ?? "b").toLowerCase();
  const power = UNIT_POWERS[unit];
  if (power === undefined || !Number.isFinite(value)) return null;
  return Math.round(value * 1024 ** power);
}

/** "25 MB" for 26214400 bytes; whole numbers where they are exact, else up to two decimals. */
export function formatByteSize(bytes: number, rate = false): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  return `${shown} ${units[unit]}${rate ? "/s" : ""}`;
}
