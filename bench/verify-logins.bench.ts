import { createServer, previewImport, testConnection } from "@imapferry/core";
import { startImapPair } from "@imapferry/testkit";
import { benchContext, freshBenchDatabase } from "./csv-import.bench.ts";
import type { BenchRow } from "./types.ts";

/*
 * An import that logs in to every account first (verifyLogins): 1,000 rows, each a distinct source
 * and destination account on two local Dovecot servers, each host allowed 4 logins at once. The
 * baseline from the same run is one login's latency (the server test, one after another): the ratio
 * is how many logins verification keeps in flight, i.e. how much faster it is than trying the
 * accounts one by one.
 */
const ROWS = 1000;
const HOST_LIMIT = 4;
const SINGLE_LOGINS = 20;

export default async function verifyLoginsBench(): Promise<BenchRow[]> {
  const database = await freshBenchDatabase();
  const imap = await startImapPair();
  try {
    const ctx = benchContext(database.handle);
    // Two host names for the two servers: each keeps its own limit, as two providers would.
    const source = await createServer(ctx, {
      name: "old",
      host: "127.0.0.1",
      port: imap.source.port,
      security: "none",
      sourceHostLimit: HOST_LIMIT,
    });
    const dest = await createServer(ctx, {
      name: "new",
      host: "localhost",
      port: imap.destination.port,
      security: "none",
      sourceHostLimit: HOST_LIMIT,
    });
    const lines = ["sourceServerId,sourceEmail,sourcePassword,destServerId,destEmail,destPassword"];
    for (let i = 0; i < ROWS; i++) {
      await imap.source.addUser(`user${i}@old.example`, `old-pw-${i}`);
      await imap.destination.addUser(`user${i}@new.example`, `new-pw-${i}`);
      lines.push(`${source.id},user${i}@old.example,old-pw-${i},${dest.id},user${i}@new.example,new-pw-${i}`);
    }
    const csv = `${lines.join("\n")}\n`;

    const endpoint = {
      host: "127.0.0.1",
      port: imap.source.port,
      security: "none" as const,
      acceptSelfSigned: false,
    };
    await testConnection(endpoint, { user: "user0@old.example", password: "old-pw-0" });
    let started = performance.now();
    for (let i = 0; i < SINGLE_LOGINS; i++) {
      const result = await testConnection(endpoint, {
        user: `user${i}@old.example`,
        password: `old-pw-${i}`,
      });
      if (!result.ok) throw new Error(`login ${i} failed: ${result.sentence}`);
    }
    const singleMs = (performance.now() - started) / SINGLE_LOGINS;

    started = performance.now();
    const preview = await previewImport(ctx, { csv, verifyLogins: true });
    const verifyMs = performance.now() - started;
    if (!preview.ok)
      throw new Error(`verification found problems: ${JSON.stringify(preview.errors.slice(0, 3))}`);
    const rowsPerSecond = ROWS / (verifyMs / 1000);
    // Trying both logins of each row one after another would take 2 × singleMs per row.
    const sequentialRowsPerSecond = 1000 / (2 * singleMs);
    return [
      {
        name: `CSV preview with verifyLogins, ${ROWS} rows (2 logins each, ${HOST_LIMIT} per host)`,
        figure: rowsPerSecond,
        unit: "rows/s",
        baseline: sequentialRowsPerSecond,
        baselineName: `one login at a time (${singleMs.toFixed(1)} ms each)`,
        ratio: rowsPerSecond / sequentialRowsPerSecond,
        target: `${ROWS} rows in < 30 s`,
      },
    ];
  } finally {
    await imap.stop();
    await database.drop();
  }
}
