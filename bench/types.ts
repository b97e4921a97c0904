/**
 * One line of the `pnpm bench` table. Every figure is printed next to a baseline measured in the same
 * run on the same machine, because absolute numbers on a shared 2-core box mean little.
 */
export interface BenchRow {
  /** What was measured, e.g. "built-in engine: messages/s". */
  name: string;
  /** NaN when it could not be measured in this run; `baselineName` then says why. */
  figure: number;
  unit: string;
  /** The same quantity for the reference measured in this run (e.g. dsync), or null where none applies. */
  baseline: number | null;
  baselineName: string;
  /** figure / baseline, oriented so that > 1 is better unless `lowerIsBetter`. */
  ratio: number | null;
  /** The project's target for this figure, in words, e.g. "ratio >= 0.33" or "p99 < 250 ms". */
  target?: string;
  lowerIsBetter?: boolean;
}

/** A benchmark module's default export. */
export type Benchmark = () => Promise<BenchRow[]>;
