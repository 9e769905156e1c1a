/**
 * @module Span exporters that count and discard, one per framework, so tracing does all of its work
 * (span objects, batching, hand-off to an exporter) without a collector on the other end.
 */
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { TracerExporters } from "moleculer";

/** For OpenTelemetry's BatchSpanProcessor: receives batches of up to 512 spans. */
export class CountingSpanExporter implements SpanExporter {
  exported = 0;

  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    this.exported += spans.length;
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/**
 * For Moleculer's tracer, batching the way BatchSpanProcessor does by default: a batch leaves when
 * 512 finished spans are queued or 5 s after the first, whichever comes first.
 */
export class CountingTraceExporter extends TracerExporters.Base {
  exported = 0;
  private queue: unknown[] = [];
  private timer: NodeJS.Timeout | undefined;

  override spanFinished(span: unknown): void {
    this.queue.push(span);
    if (this.queue.length >= 512) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 5000).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.exported += this.queue.length;
    this.queue = [];
  }
}
