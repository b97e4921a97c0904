import type { JSX } from "solid-js";
import { formatDateTime, formatFullDateTime, formatRelative } from "../format.ts";

/**
 * A moment in the person's locale and time zone; hovering shows the full date with the time zone, so
 * "Today 7:18 PM" can be told apart from the server's or the log's clock.
 */
export function DateTime(props: {
  value: string | Date | null | undefined;
  /** "in 5 minutes" / "3 hours ago" instead of the date. @defaultValue false */
  relative?: boolean;
  /** What an empty value reads as. @defaultValue "—" for dates, "never" for relative ones */
  empty?: string;
}): JSX.Element {
  const iso = () => {
    const v = props.value;
    if (!v) return undefined;
    const date = typeof v === "string" ? new Date(v) : v;
    return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
  };
  const text = () => {
    if (!iso()) return props.empty ?? (props.relative ? "never" : "—");
    return props.relative ? formatRelative(props.value) : formatDateTime(props.value);
  };
  return (
    <time datetime={iso()} title={formatFullDateTime(props.value) || undefined}>
      {text()}
    </time>
  );
}
