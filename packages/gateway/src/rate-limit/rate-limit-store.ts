/** @module Where rate limit state lives: one small interface, in process or shared (Redis). */
import type { Decision, RateLimit } from "./gcra.js";

export interface RateLimitStore {
  /**
   * Counts one request against `key` under `limit` and answers whether it is admitted. `now` (ms) is
   * for tests; stores that share state use a clock they share instead. May answer synchronously.
   */
  take(key: string, limit: RateLimit, now?: number): Promise<Decision> | Decision;
  close(): Promise<void> | void;
}
