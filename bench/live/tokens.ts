/** @module Bearer tokens for the fan-out's connections, signed by a test issuer the Flotilla gateway trusts. */
import { signToken, type TestKey, testKey } from "../../packages/auth/test/support/keys.js";
import { FANOUT_USER } from "./broadcast-app.js";
import type { LiveAudience } from "./cases.js";

export interface FanoutTokens {
  readonly key: TestKey;
  /** One per connection: a user each (`everyone`), or the same user with distinct tokens (`one-user`). */
  readonly readers: string[];
  /** The caller of `POST /api/v1/broadcast`. */
  readonly publisher: string;
}

const HOUR = 3_600;

export async function fanoutTokens(count: number, audience: LiveAudience): Promise<FanoutTokens> {
  const key = await testKey("fanout");
  const exp = Math.floor(Date.now() / 1000) + HOUR;
  const readers = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      signToken(key, { sub: audience === "everyone" ? `reader-${i}` : FANOUT_USER, jti: `r${i}`, exp }),
    ),
  );
  const publisher = await signToken(key, { sub: "fanout-publisher", exp });
  return { key, readers, publisher };
}
