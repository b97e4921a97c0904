export type { AuditEvent, AuditEventInput } from "./audit-log.ts";
export { listAuditEvents, recordAuditEvent } from "./audit-log.ts";
export { auditDetails } from "./redact.ts";
export type { ListAuditEventsInput } from "./schemas.ts";
export { listAuditEventsInputSchema } from "./schemas.ts";
