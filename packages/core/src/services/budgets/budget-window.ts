/**
 * Budget windows are fixed spans aligned to the epoch (a day's runs from 00:00 to 24:00 UTC), so every
 * worker agrees on which window a byte falls in without asking anyone.
 */
export interface BudgetWindow {
  start: Date;
  /** When the window's budgets reset. */
  end: Date;
}

export function budgetWindowAt(now: Date, windowSeconds: number): BudgetWindow {
  const lengthMs = windowSeconds * 1000;
  const start = Math.floor(now.getTime() / lengthMs) * lengthMs;
  return { start: new Date(start), end: new Date(start + lengthMs) };
}
