import type { ServiceContext } from "@imapferry/core";
import { streamLog, withoutHostDetails } from "@imapferry/core";
import type { Context } from "hono";
import type { AuthenticatedEnv } from "./authenticate.ts";

/** Bytes fetched per query: one page is all the memory a download holds, however long the log. */
const PAGE_BYTES = 512 * 1024;

/** "job-42-alice-example.com.log": only characters that are safe in a header and in every file system. */
export function logFileName(jobId: number, jobName: string): string {
  const safe = jobName
    .normalize("NFKD")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 80);
  return safe ? `job-${jobId}-${safe}.log` : `job-${jobId}.log`;
}

/**
 * GET /api/jobs/:id/log — the whole log as a download, streamed page by page from the stored chunks
 * as the client reads (backpressure), so a 200 MB log never sits in memory.
 */
export function createLogDownloadHandler(ctx: Pick<ServiceContext, "db">) {
  return async function downloadJobLog(c: Context<AuthenticatedEnv>): Promise<Response> {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id <= 0) {
      return c.json(
        { error: { code: "BAD_REQUEST", message: "The job id must be a positive integer." } },
        400,
      );
    }
    const { tenant, role } = c.get("auth").principal;
    let query = ctx.db
      .selectFrom("jobs")
      .select(["id", "name", "source_email"])
      .where("id", "=", id)
      .where("deleted_at", "is", null);
    // A tenant's token downloads its tenant's logs only; another's job answers as if it did not exist.
    if (tenant !== null) query = query.where("tenant", "=", tenant);
    const job = await query.executeTakeFirst();
    if (!job) return c.json({ error: { code: "NOT_FOUND", message: `There is no job ${id}.` } }, 404);

    const encoder = new TextEncoder();
    const chunks = streamLog(ctx, id, { pageBytes: PAGE_BYTES });
    // Only an admin downloads the lines that describe imapferry's machine; others get whole lines
    // without them (a page's unfinished last line waits for the next page).
    const redact = role !== "admin";
    let carry = "";
    const body = new ReadableStream<Uint8Array>({
      // Pull-based: the next page is read only when the client has taken the previous one.
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) {
          if (carry !== "") controller.enqueue(encoder.encode(withoutHostDetails(carry)));
          controller.close();
        } else if (!redact) controller.enqueue(encoder.encode(next.value.text));
        else {
          const text = carry + next.value.text;
          const cut = text.lastIndexOf("\n") + 1;
          carry = text.slice(cut);
          controller.enqueue(encoder.encode(withoutHostDetails(text.slice(0, cut))));
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Disposition": `attachment; filename="${logFileName(id, job.name || job.source_email)}"`,
        "Cache-Control": "no-store",
      },
    });
  };
}
