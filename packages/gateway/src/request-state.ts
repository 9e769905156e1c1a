/** @module What the gateway keeps for each request: its ids, what the access log needs, and its concurrency slot. */
import type { IncomingMessage } from "node:http";
import type { ConcurrencyLimit } from "./concurrency-limit.js";
import type { EdgeIds } from "./edge-ids.js";

/** Kept on Node's request under a symbol, so fastify's request type stays untouched and lookups stay cheap. */
const STATE = Symbol("flotilla.gateway.request");

type Tracked = IncomingMessage & { [STATE]?: RequestState };

export class RequestState {
  readonly start = performance.now();
  /** The matched route's template; undefined for a request no route matched. */
  route: string | undefined = undefined;
  private slot: ConcurrencyLimit | undefined = undefined;
  /** The answer, and the handler while it runs: a client that leaves early does not free a slot still in use. */
  private holds = 0;

  constructor(readonly ids: EdgeIds) {}

  /** Occupies a slot of `limit` until the answer is done and release() was called for each hold(). */
  admit(limit: ConcurrencyLimit): boolean {
    if (!limit.tryAcquire()) return false;
    this.slot = limit;
    this.holds = 1;
    return true;
  }

  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.slot !== undefined && --this.holds === 0) {
      this.slot.release();
      this.slot = undefined;
    }
  }
}

export function stateOf(req: IncomingMessage): RequestState | undefined {
  return (req as Tracked)[STATE];
}

export function attachState(req: IncomingMessage, state: RequestState): RequestState {
  (req as Tracked)[STATE] = state;
  return state;
}
