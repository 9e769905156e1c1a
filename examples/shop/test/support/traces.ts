/** @module Reading a trace back from a store in tests: spans arrive as their work ends, so wait for the last one. */
import type { SpanRecord, TraceStore } from "@flotilla/telemetry";
import { waitFor } from "@flotilla/testing";

/** The trace's spans once `complete` says they are all there (spans of a saga keep arriving after the 202). */
export async function waitForTrace(
  store: TraceStore,
  traceId: string,
  complete: (spans: SpanRecord[]) => boolean,
  timeoutMs = 20_000,
): Promise<SpanRecord[]> {
  let spans: SpanRecord[] = [];
  try {
    await waitFor(
      async () => {
        spans = await store.trace(traceId);
        return complete(spans);
      },
      { timeoutMs, intervalMs: 100, what: `trace ${traceId} to be complete` },
    );
  } catch (err) {
    const seen = spans.map((s) => `${s.service}:${s.name}${s.status === 2 ? " (failed)" : ""}`).join("\n  ");
    throw new Error(`${(err as Error).message}; its spans so far:\n  ${seen}`);
  }
  return spans;
}
