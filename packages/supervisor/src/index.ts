/** @module The supervisor behind `flotilla up`: runs an app's deployment units as processes, heals and scales them. */
export * from "./autoscale/index.js";
export type { CompanionStatus } from "./companion.js";
export { callSupervisor, readControlFile } from "./control-client.js";
export { CONTROL_FILE, type ControlFile } from "./control-server.js";
// Hot reload (flotilla dev, docs/hot-reload.md).
export * from "./dev/index.js";
export { SupervisorCodes } from "./errors.js";
export { EVENTS_SUBJECT, type InstanceEvent, type SupervisorEvents } from "./events.js";
export type { InstanceState, InstanceStatus } from "./instance.js";
export { duration, renderStatus } from "./render-status.js";
export { createSupervisor, type Supervisor, type SupervisorOptions, type SupervisorStatus } from "./supervisor.js";
export type { SupervisorDashboardOptions } from "./supervisor-types.js";
export type { HealingOptions, UnitHealth, UnitStatus } from "./unit-runner.js";
