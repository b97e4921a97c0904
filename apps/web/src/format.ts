/** Display formatting shared by every page: one place decides how a date or a size reads. */

// Styles, not fields: the locale decides 12- or 24-hour time and where AM/PM goes, so a time reads as
// the person's own clock does.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
/** The whole moment with its time zone, for a tooltip. */
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "long" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const integer = new Intl.NumberFormat();

function toDate(value: string | Date | null | undefined): Date | null {
  if (!value) return null;
  const date = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A moment as the person's clock reads it: "Today 7:18 PM" (en-US), "Today 19:18" (de-DE), or a date too. */
export function formatDateTime(value: string | Date | null | undefined, now: Date = new Date()): string {
  const date = toDate(value);
  if (!date) return "—";
  if (date.toDateString() === now.toDateString()) return `Today ${timeOfDay.format(date)}`;
  return dateTime.format(date);
}

/** The full date, time and time zone ("Saturday, December 5, 2026 at 7:18:04 PM UTC"), or "" for none. */
export function formatFullDateTime(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? fullDateTime.format(date) : "";
}

export function formatRelative(value: string | Date | null | undefined, now: Date = new Date()): string {
  const date = toDate(value);
  if (!date) return "never";
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86_400), "day");
}

export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return integer.format(value);
}

export function formatBytes(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  let n = typeof value === "string" ? Number(value) : value;
  if (!Number.isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n >= 100 || unit === 0 ? Math.round(n) : n.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(totalSeconds: number | null | undefined): string {
  if (totalSeconds === null || totalSeconds === undefined || !Number.isFinite(totalSeconds)) return "—";
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/**
 * A measured duration as precisely as the engine's log gives it: "1.4 s", "18.3 s" under a minute
 * (where a rounded "0s" or "18s" would disagree with the log beside it), then as formatDuration.
 */
export function formatElapsed(totalSeconds: number | null | undefined): string {
  if (totalSeconds === null || totalSeconds === undefined || !Number.isFinite(totalSeconds)) return "—";
  if (totalSeconds < 59.95) return `${Math.max(0, totalSeconds).toFixed(1)} s`;
  return formatDuration(totalSeconds);
}

export function pluralize(count: number, one: string, many = `${one}s`): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}
