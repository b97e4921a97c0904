import type { DelegatedOAuth2Input } from "../jobs/delegated-oauth2.ts";
import { delegatedOAuth2InputSchema } from "../jobs/schemas.ts";
import type { CsvColumn } from "./columns.ts";

/** A row side's delegated OAuth2 grant, validated (see delegatedOAuth2InputSchema). */
export type CsvGrant = DelegatedOAuth2Input;

/** Which CSV column each field of the grant comes from, per side. */
const FIELD_COLUMNS = {
  refreshToken: "RefreshToken",
  provider: "OAuth2Provider",
  clientId: "OAuth2ClientId",
  clientSecret: "OAuth2ClientSecret",
  tokenUrl: "OAuth2TokenUrl",
} as const;

/**
 * A side's refresh token and its client from a CSV row, or null when the row has no refresh token for
 * that side (its other OAuth2 columns are then ignored). Problems go to `errors` naming the column,
 * never echoing a value.
 */
export function readCsvGrant(
  side: "source" | "dest",
  get: (column: CsvColumn) => string,
  line: number,
  errors: { line: number; column: string | null; reason: string }[],
): CsvGrant | null {
  const column = (field: keyof typeof FIELD_COLUMNS) => `${side}${FIELD_COLUMNS[field]}` as CsvColumn;
  const refreshToken = get(column("refreshToken")).trim();
  if (refreshToken === "") return null;
  const clientSecret = get(column("clientSecret"));
  const tokenUrl = get(column("tokenUrl")).trim();
  const parsed = delegatedOAuth2InputSchema.safeParse({
    provider: get(column("provider")).trim().toLowerCase(),
    refreshToken,
    clientId: get(column("clientId")).trim(),
    ...(clientSecret !== "" ? { clientSecret } : {}),
    ...(tokenUrl !== "" ? { tokenUrl } : {}),
  });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const field = issue.path[0];
    const name =
      typeof field === "string" && field in FIELD_COLUMNS
        ? column(field as keyof typeof FIELD_COLUMNS)
        : null;
    errors.push({ line, column: name, reason: issue.message });
  }
  return null;
}
