/** @module Codes a composite route raises itself. Never reuse a code; each is in docs/errors.md. */
export const CompositeCodes = {
  /** The route's `shape` made an answer its declared output schema refuses (a 500; the log has the issues). */
  SHAPE_INVALID: { code: "FLOTILLA_COMPOSITE_SHAPE_INVALID", status: "INTERNAL" },
} as const;
