/** @module What a failure is, in the terms spans and metrics report: its stable code and status category. */
import { FlotillaError, type Status } from "@flotilla/core";

/** The label value every success is recorded under. */
export const OK = "OK";

export interface Failure {
  readonly code: string;
  readonly status: Status;
  readonly message: string;
}

/** Reads a FlotillaError as is; anything else is classified the way core wraps it (an Error is INTERNAL). */
export function failureOf(err: unknown): Failure {
  return err instanceof FlotillaError ? err : FlotillaError.from(err);
}
