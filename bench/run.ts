import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Benchmark, BenchRow } from "./types.ts";

// Runs every bench/*.bench.ts (or those whose name contains an argument) one after another, never in
// parallel: on a 2-core machine two benchmarks would measure each other.
const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv[2] === "--one" ? [] : process.argv.slice(2);
const files = (await readdir(here))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

// A benchmark run on its own (`run.ts --one <file> <rows.json>`): writes its rows to the file.
if (process.argv[2] === "--one") {
  const [, , , file = "", out = ""] = process.argv;
  const module = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Benchmark };
  await writeFile(out, JSON.stringify(await module.default()));
  process.exit(0);
}

const rows: BenchRow[] = [];
let failures = 0;
const outDir = await mkdtemp(path.join(tmpdir(), "imapferry-bench-"));
for (const file of files) {
  process.stderr.write(`bench: ${file} …\n`);
  // Each in a process of its own: one benchmark's heap (the engine's generated mail, 100,000 seeded
  // jobs) must not cost the next one garbage-collection pauses in the middle of its measurement.
  const out = path.join(outDir, `${file}.json`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), "--one", file, out],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.once("exit", resolve);
  });
  if (code === 0) rows.push(...(JSON.parse(await readFile(out, "utf8")) as BenchRow[]));
  else {
    failures++;
    process.stderr.write(`bench: ${file} failed (exit ${code})\n`);
  }
}
await rm(outDir, { recursive: true, force: true });

printTable(rows);
process.exit(failures > 0 ? 1 : 0);

function printTable(list: BenchRow[]): void {
  const header = ["benchmark", "figure", "baseline (same run)", "ratio", "target"];
  const lines = list.map((r) => [
    r.name,
    // NaN (null once through JSON): not measured in this run (e.g. imapsync without IMAPSYNC_BIN);
    // the baseline column says why.
    r.figure === null || Number.isNaN(r.figure) ? "not run" : `${format(r.figure)} ${r.unit}`,
    r.baseline === null ? r.baselineName || "—" : `${format(r.baseline)} ${r.unit} (${r.baselineName})`,
    r.ratio === null ? "—" : `${r.ratio.toFixed(2)}×`,
    r.target ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  console.log(render(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(render(l));
}

function format(n: number): string {
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
