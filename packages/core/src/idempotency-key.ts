/** @module The idempotency key a request may carry: one rule for the edge and for the service that keeps it. */
import { FlotillaCodes, FlotillaError } from "./errors.js";

/** 1 to 255 printable ASCII characters (space included), as the HTTP header value may hold. */
const KEY = /^[\x20-\x7e]{1,255}$/;

/** The key as it is, or FLOTILLA_IDEMPOTENCY_KEY_INVALID. */
export function checkIdempotencyKey(key: string): string {
  if (KEY.test(key)) return key;
  throw FlotillaError.of(
    FlotillaCodes.IDEMPOTENCY_KEY_INVALID,
    "an idempotency key is 1 to 255 printable ASCII characters",
    { details: { length: key.length } },
  );
}
