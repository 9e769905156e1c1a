/**
 * @module The audience mark: who an event concerns, decided where it is emitted (from the event's
 * contract) and carried as a header, so the edge routes live pushes by it without any business rule.
 */
import type { EventRef } from "./contract.js";
import { FlotillaCodes, FlotillaError } from "./errors.js";
import { type HeaderMap, Headers } from "./transport/envelope.js";

/** The mark names a user: `user:<id>`. */
export const AUDIENCE_USER_PREFIX = "user:";
/** The mark of an event for every signed-in caller. */
export const AUDIENCE_EVERYONE_MARK = "everyone";

/**
 * What an event contract's `audience` returns for an event that concerns every signed-in caller (a
 * sale starting, a maintenance notice): `audience: () => EVERYONE`.
 */
export const EVERYONE: unique symbol = Symbol.for("flotilla.audience.everyone");
export type Everyone = typeof EVERYONE;

/** Printable ASCII without spaces, bounded: it travels as a NATS header and is compared, never parsed further. */
const USER_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * The header marking `data` (already validated) with its audience, or undefined when the event's
 * contract names none or its `audience` returns none for this data. A user id that cannot travel
 * as a header is a bug of the contract: CONFIG, and the emit fails rather than go unmarked.
 */
export function audienceHeaders(ref: EventRef, data: unknown): HeaderMap | undefined {
  if (ref.audience === undefined) return undefined;
  const user = ref.audience(data as never);
  if (user === undefined) return undefined;
  if (user === EVERYONE) return { [Headers.audience]: AUDIENCE_EVERYONE_MARK };
  if (typeof user !== "string" || !USER_ID.test(user)) {
    throw FlotillaError.of(
      FlotillaCodes.CONFIG,
      `the audience of ${ref.type} must be a user id of 1 to 256 printable characters without spaces, or EVERYONE`,
    );
  }
  return { [Headers.audience]: AUDIENCE_USER_PREFIX + user };
}

/** Who an event is marked for: a user, EVERYONE, or undefined when it carries no mark (or one this version does not know). */
export function audienceOf(headers: HeaderMap): string | Everyone | undefined {
  const mark = headers[Headers.audience];
  if (mark === AUDIENCE_EVERYONE_MARK) return EVERYONE;
  if (mark === undefined || !mark.startsWith(AUDIENCE_USER_PREFIX)) return undefined;
  const user = mark.slice(AUDIENCE_USER_PREFIX.length);
  return user === "" ? undefined : user;
}
