/** @module Retries: idempotent calls that failed with a retryable error, with jittered backoff, within the deadline. */
import { FlotillaCodes, FlotillaError, type Middleware } from "@flotilla/core";
import { ExponentialBackoff, fullJitterGenerator, type IBackoff } from "cockatiel";

export interface RetryOptions {
  /** Attempts in all, the first included (3). */
  maxAttempts?: number;
  /** Cap of the first backoff (50 ms); the cap doubles per retry up to `maxMs`, the wait is uniform below it. */
  baseMs?: number;
  maxMs?: number;
  /** Which errors to retry (default: those marked `retryable`). Only idempotent actions are ever retried. */
  retryOn?: (err: FlotillaError) => boolean;
}

/**
 * Retries a call only when its action is `idempotent` and the error is retryable. Every attempt gets
 * what remains of the call's time (`timeoutMs`, itself within the context's deadline); a retry whose
 * backoff would end past it is not made, and the last error is thrown. Before each retry the call's
 * routing is reset to what this middleware received, so an instance chosen by a balancer further in
 * is chosen afresh, while one the caller pinned stays pinned.
 */
export function retries(options: RetryOptions = {}): Middleware {
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `retries: maxAttempts must be a positive integer, not ${maxAttempts}`);
  }
  const backoff = new ExponentialBackoff({
    initialDelay: options.baseMs ?? 50,
    maxDelay: options.maxMs ?? 2_000,
    generator: fullJitterGenerator,
  });
  const retryOn = options.retryOn ?? ((err: FlotillaError) => err.retryable);

  return {
    name: "retries",
    async call(call, next) {
      if (!call.ref.idempotent || maxAttempts === 1) return next();
      const deadline = Math.min(call.ctx.deadline, Date.now() + call.timeoutMs);
      const { instance, trace } = call;
      const headers = call.headers === undefined ? undefined : { ...call.headers };
      let wait: IBackoff<unknown> | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          return await next();
        } catch (err) {
          const fe = FlotillaError.from(err);
          if (attempt >= maxAttempts || !retryOn(fe)) throw err;
          wait = wait === undefined ? backoff.next() : wait.next(undefined);
          if (Date.now() + wait.duration >= deadline) throw err;
          call.ctx.log.debug({ action: call.ref.fqn, attempt, waitMs: wait.duration, code: fe.code }, "retrying call");
          await new Promise((resolve) => setTimeout(resolve, wait?.duration));
          call.timeoutMs = deadline - Date.now();
          if (call.timeoutMs <= 0) throw err;
          if (instance === undefined) delete call.instance;
          else call.instance = instance;
          call.trace = trace;
          if (headers !== undefined) call.headers = { ...headers };
          call.attempt++;
        }
      }
    },
  };
}
