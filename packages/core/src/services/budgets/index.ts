export type { AccountBudgetUsage, RemainingBudget, UsageDirection } from "./account-usage.ts";
export { jobBudgetUsage as getJobBudgetUsage, recordAccountUsage, remainingBudget } from "./account-usage.ts";
export type { BudgetWindow } from "./budget-window.ts";
export { budgetWindowAt } from "./budget-window.ts";
export type { ServerPreset, ServerPresetName } from "./provider-presets.ts";
export { SERVER_PRESET_NAMES, SERVER_PRESETS } from "./provider-presets.ts";
