/**
 * @module Sends finished spans to an OpenTelemetry `SpanExporter` in batches, off the caller's path.
 *
 * Failure modes, each counted in `stats()` rather than thrown at the code that ended a span:
 * - the queue is full (the exporter is slower than spans end, or its endpoint is down): new spans are
 *   dropped, never buffered without bound;
 * - an export fails (the exporter has already retried what its protocol calls retryable): the batch
 *   is lost and counted;
 * - an export hangs: a batch in flight blocks the next one, so at most one is outstanding, and the
 *   exporter's own timeout (OTEL_EXPORTER_OTLP_TIMEOUT) ends it.
 */
import { ExportResultCode } from "@opentelemetry/core";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { SpanRecord } from "../traces/span-record.js";
import { Resources, toReadableSpan } from "./readable-span.js";
import type { SpanSink } from "./recording-span.js";

export interface ExportQueueOptions {
  readonly exporter: SpanExporter;
  /** Export only spans whose head-sampling decision was "sampled" (an OTLP backend); else every span. */
  readonly onlySampled: boolean;
  /** Longest a span waits before its batch is sent (OTEL_BSP_SCHEDULE_DELAY; default 5000). */
  readonly delayMs?: number;
  /** Spans held at most (OTEL_BSP_MAX_QUEUE_SIZE; default 2048). */
  readonly maxQueue?: number;
  /** Spans per export at most (OTEL_BSP_MAX_EXPORT_BATCH_SIZE; default 512). */
  readonly maxBatch?: number;
  /** Resource attributes every exported span carries besides its service and instance. */
  readonly resource?: Readonly<Record<string, string>>;
  /**
   * Told of a failed export: the first, then one in every hundred, so a dead endpoint is reported
   * without a line per batch.
   */
  readonly onFailure?: (error: Error | undefined, failedSpans: number) => void;
}

export interface ExportStats {
  readonly exported: number;
  readonly droppedQueueFull: number;
  readonly failed: number;
  readonly queued: number;
}

export class ExportQueue implements SpanSink {
  readonly #exporter: SpanExporter;
  readonly #onlySampled: boolean;
  readonly #delayMs: number;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #resources: Resources;
  #queue: SpanRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #exported = 0;
  #droppedQueueFull = 0;
  #failed = 0;
  #failures = 0;
  #closed = false;
  readonly #onFailure: ExportQueueOptions["onFailure"];

  constructor(options: ExportQueueOptions) {
    this.#exporter = options.exporter;
    this.#onlySampled = options.onlySampled;
    this.#delayMs = options.delayMs ?? 5000;
    this.#maxQueue = options.maxQueue ?? 2048;
    this.#maxBatch = Math.min(options.maxBatch ?? 512, this.#maxQueue);
    this.#resources = new Resources(options.resource);
    this.#onFailure = options.onFailure;
  }

  onEnd(span: SpanRecord): void {
    if (this.#closed || (this.#onlySampled && !span.sampled)) return;
    if (this.#queue.length >= this.#maxQueue) {
      this.#droppedQueueFull++;
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#kick(), this.#delayMs);
      this.#timer.unref();
    }
  }

  stats(): ExportStats {
    return {
      exported: this.#exported,
      droppedQueueFull: this.#droppedQueueFull,
      failed: this.#failed,
      queued: this.#queue.length,
    };
  }

  /** Sends everything queued now and waits until it is sent (or failed). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#sending !== undefined) {
      this.#kick();
      await this.#sending;
    }
  }

  /** Flushes, then shuts the exporter down; spans ending afterwards are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#exporter.shutdown();
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined;
      if (this.#queue.length >= this.#maxBatch) this.#kick();
      else if (this.#queue.length > 0 && this.#timer === undefined && !this.#closed) {
        this.#timer = setTimeout(() => this.#kick(), this.#delayMs);
        this.#timer.unref();
      }
    });
  }

  #fail(spans: number, error: Error | undefined): void {
    this.#failed += spans;
    if (this.#failures++ % 100 === 0) this.#onFailure?.(error, this.#failed);
  }

  #send(batch: SpanRecord[]): Promise<void> {
    const spans = batch.map((s) => toReadableSpan(s, this.#resources));
    return new Promise((resolve) => {
      try {
        this.#exporter.export(spans, (result) => {
          if (result.code === ExportResultCode.SUCCESS) this.#exported += batch.length;
          else this.#fail(batch.length, result.error);
          resolve();
        });
      } catch (err) {
        this.#fail(batch.length, err instanceof Error ? err : new Error(String(err)));
        resolve();
      }
    });
  }
}
