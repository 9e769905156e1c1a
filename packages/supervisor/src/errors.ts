/** @module Codes the supervisor raises itself (docs/supervisor.md, docs/errors.md). Never reuse a code. */
import type { Status } from "@flotilla/core";

export const SupervisorCodes = {
  /** `scale`/`restart` named a unit the app (in the supervisor's layout) does not have. */
  UNKNOWN_UNIT: { code: "FLOTILLA_SUPERVISOR_UNKNOWN_UNIT", status: "NOT_FOUND" },
  /** A wanted instance count outside the unit's `scaling.min`..`scaling.max`, or not a whole number. */
  SCALE_OUT_OF_RANGE: { code: "FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE", status: "OUT_OF_RANGE" },
  /** More than one instance of a unit with services asked for, but its services keep SQLite files. */
  NEEDS_POSTGRES: { code: "FLOTILLA_SUPERVISOR_NEEDS_POSTGRES", status: "FAILED_PRECONDITION" },
  /** `flotilla ps/scale/restart` found no running supervisor for the data dir. */
  NOT_RUNNING: { code: "FLOTILLA_SUPERVISOR_NOT_RUNNING", status: "UNAVAILABLE" },
  /** The control server refused the request's token. */
  UNAUTHORIZED: { code: "FLOTILLA_SUPERVISOR_UNAUTHORIZED", status: "UNAUTHENTICATED" },
  /** The supervisor is stopping: it starts nothing more. */
  STOPPING: { code: "FLOTILLA_SUPERVISOR_STOPPING", status: "UNAVAILABLE" },
} as const satisfies Record<string, { code: string; status: Status }>;
