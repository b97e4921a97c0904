export { tickPlan } from "./passes.ts";
export type { PlanView } from "./plan-view.ts";
export { cutOverPlan, describeInterval, getPlan, pausePlan, resumePlan, setPlan } from "./plans.ts";
export { PLAN_TICK_TASK } from "./schedule.ts";
export type { SetPlanInput } from "./schemas.ts";
export { planBatchInputSchema, setPlanInputSchema } from "./schemas.ts";
export { planTasks } from "./tasks.ts";
export type { PlanScheduler } from "./worker.ts";
export { startPlanScheduler } from "./worker.ts";
