/** @module Errors every transport raises the same way. */
import { FlotillaCodes, FlotillaError } from "../errors.js";

/** The transport (or what it needs: a connection, a journal) cannot do its job now; a retry may help. */
export function unavailable(message: string, cause?: unknown): FlotillaError {
  return new FlotillaError("UNAVAILABLE", message, cause === undefined ? {} : { cause });
}

/** A reply that cannot cross the wire is the callee's fault: say so, rather than blame the caller's payload. */
export function replyError(err: unknown): unknown {
  if (err instanceof FlotillaError && err.code === FlotillaCodes.PAYLOAD_TOO_LARGE.code) {
    return FlotillaError.of(FlotillaCodes.REPLY_TOO_LARGE, `reply ${err.message}`, { details: err.details });
  }
  return err;
}
