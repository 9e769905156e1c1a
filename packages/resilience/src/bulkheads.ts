/** @module Bulkheads: cap the calls this process runs and queues per action, so one slow dependency cannot take every slot. */
import { FlotillaCodes, FlotillaError, type Middleware, type OutboundCall } from "@flotilla/core";

export interface BulkheadLimits {
  /** Calls to the action in flight at once. */
  maxConcurrent: number;
  /** Calls allowed to wait for a slot (0); past that they fail with FLOTILLA_BULKHEAD_FULL. */
  maxQueued?: number;
}

export interface BulkheadOptions extends BulkheadLimits {
  /** Limits for particular actions (by `service.action`); the others get the defaults above. */
  actions?: Record<string, BulkheadLimits>;
}

/**
 * One compartment per action. A waiting call leaves the queue when its time runs out (DEADLINE_EXCEEDED)
 * and, once admitted, runs with only the time that is left.
 */
export function bulkheads(options: BulkheadOptions): Middleware {
  const compartments = new Map<string, Compartment>();
  for (const limits of [options, ...Object.values(options.actions ?? {})]) {
    if (!(limits.maxConcurrent >= 1) || !((limits.maxQueued ?? 0) >= 0)) {
      throw FlotillaError.of(FlotillaCodes.CONFIG, "bulkheads: maxConcurrent must be >= 1 and maxQueued >= 0");
    }
  }
  return {
    name: "bulkheads",
    call(call, next) {
      let compartment = compartments.get(call.ref.fqn);
      if (compartment === undefined) {
        compartment = new Compartment(call.ref.fqn, options.actions?.[call.ref.fqn] ?? options);
        compartments.set(call.ref.fqn, compartment);
      }
      return compartment.run(call, next);
    },
  };
}

interface Waiter {
  admit(): void;
}

class Compartment {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;

  constructor(
    private readonly action: string,
    limits: BulkheadLimits,
  ) {
    this.maxConcurrent = limits.maxConcurrent;
    this.maxQueued = limits.maxQueued ?? 0;
  }

  async run(call: OutboundCall, next: () => Promise<unknown>): Promise<unknown> {
    if (this.active < this.maxConcurrent) this.active++;
    else if (this.waiting.length < this.maxQueued) await this.wait(call);
    else {
      throw FlotillaError.of(
        FlotillaCodes.BULKHEAD_FULL,
        `${this.action}: ${this.maxConcurrent} calls running and ${this.maxQueued} waiting`,
        { details: { action: this.action, maxConcurrent: this.maxConcurrent, maxQueued: this.maxQueued } },
      );
    }
    try {
      return await next();
    } finally {
      this.release();
    }
  }

  /** Resolves holding a slot, handed over by a finishing call; rejects if the call's time runs out first. */
  private wait(call: OutboundCall): Promise<void> {
    const deadline = Date.now() + call.timeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          call.timeoutMs = deadline - Date.now();
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new FlotillaError("DEADLINE_EXCEEDED", `${this.action} waited for a bulkhead slot past its deadline`));
      }, call.timeoutMs);
      timer.unref();
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.active--;
    else waiter.admit();
  }
}
