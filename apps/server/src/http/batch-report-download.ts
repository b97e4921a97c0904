import type { ServiceContext } from "@imapferry/core";
import {
  assertBatchInScope,
  batchReportCsvHeader,
  batchReportCsvLine,
  ImapferryError,
  requireBatchForReport,
  streamBatchReport,
} from "@imapferry/core";
import type { Context } from "hono";
import type { AuthenticatedEnv } from "./authenticate.ts";

/**
 * GET /api/batches/:id/report.csv — one row per mailbox, streamed page by page as the client reads,
 * so a batch of 10,000 mailboxes never sits in memory.
 */
export function createBatchReportDownloadHandler(ctx: Pick<ServiceContext, "db">) {
  return async function downloadBatchReport(c: Context<AuthenticatedEnv>): Promise<Response> {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id <= 0) {
      return c.json(
        { error: { code: "BAD_REQUEST", message: "The batch id must be a positive integer." } },
        400,
      );
    }
    let tag: string;
    try {
      // A tenant's token gets its tenant's reports only; another's batch answers as if it did not exist.
      await assertBatchInScope(ctx, c.get("auth").principal, id);
      tag = await requireBatchForReport(ctx, id);
    } catch (e: unknown) {
      if (e instanceof ImapferryError && e.code === "NOT_FOUND") {
        return c.json({ error: { code: "NOT_FOUND", message: e.message } }, 404);
      }
      throw e;
    }
    const encoder = new TextEncoder();
    const rows = streamBatchReport(ctx, id);
    let headerSent = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(batchReportCsvHeader()));
          return;
        }
        const next = await rows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(batchReportCsvLine(next.value)));
      },
      async cancel() {
        await rows.return(undefined);
      },
    });
    const safeTag = tag.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 80);
    return new Response(body, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="batch-${id}-${safeTag}-report.csv"`,
        "Cache-Control": "no-store",
      },
    });
  };
}
