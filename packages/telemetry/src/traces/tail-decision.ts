/**
 * @module The local tail decision both trace stores make: a trace the head sampler dropped is still
 * kept when it turns out to matter, because one of its spans failed or it lasted `slowMs` or more.
 *
 * Spans arrive one finished span at a time, so the decision cannot wait for a whole trace: spans with
 * `sampled: false` are held aside (unlisted) in a small budget of their own. The trace is promoted, its
 * held spans handed to the store, as soon as one of its spans has status error, its spans so far span
 * `slowMs` or more, or a sampled span of it arrives. Once promoted, its later spans pass straight
 * through. When the held spans outgrow their budget, the traces held longest are discarded, whole.
 */
import { type SpanRecord, SpanStatuses } from "./span-record.js";
import { spanBytes } from "./span-size.js";

export interface TailDecisionOptions {
  /** Budget of the held (unsampled, undecided) spans, in estimated bytes (see span-size.ts). */
  readonly heldBytes: number;
  /** A trace whose spans span this long is kept even when the head sampler dropped it. */
  readonly slowMs: number;
}

export interface TailDecisionStats {
  /** Unsampled spans held now, waiting for their trace to fail, run slow, or be discarded. */
  readonly heldSpans: number;
  readonly heldBytes: number;
  /** Unsampled spans kept so far because their trace failed or ran slow. */
  readonly promotedSpans: number;
  /** Unsampled spans discarded so far: their trace neither failed nor ran slow while held. */
  readonly discardedSpans: number;
}

interface Held {
  readonly spans: SpanRecord[];
  bytes: number;
  startMs: number;
  endMs: number;
}

/** How many promoted or sampled trace ids are remembered, so their later unsampled spans pass. */
const KEPT_IDS = 16_384;

export class TailDecision {
  readonly #heldBudget: number;
  readonly #slowMs: number;
  /** By trace id, in the order their first span arrived: the first is discarded first. */
  readonly #held = new Map<string, Held>();
  readonly #kept = new Map<string, true>();
  #heldBytes = 0;
  #heldSpans = 0;
  #promoted = 0;
  #discarded = 0;

  constructor(options: TailDecisionOptions) {
    this.#heldBudget = options.heldBytes;
    this.#slowMs = options.slowMs;
  }

  /** The spans to keep now, in arrival order (spans released from hold come before the one that released them). */
  admit(spans: readonly SpanRecord[]): SpanRecord[] {
    const keep: SpanRecord[] = [];
    for (const span of spans) {
      if (span.sampled || this.#kept.has(span.traceId)) {
        this.#keep(span.traceId, keep);
        if (!span.sampled) this.#promoted += 1;
        keep.push(span);
        continue;
      }
      const held = this.#hold(span);
      if (span.status === SpanStatuses.error || held.endMs - held.startMs >= this.#slowMs) {
        this.#keep(span.traceId, keep);
      }
    }
    this.#discardOverBudget();
    return keep;
  }

  stats(): TailDecisionStats {
    return {
      heldSpans: this.#heldSpans,
      heldBytes: this.#heldBytes,
      promotedSpans: this.#promoted,
      discardedSpans: this.#discarded,
    };
  }

  #hold(span: SpanRecord): Held {
    let held = this.#held.get(span.traceId);
    if (held === undefined) {
      held = { spans: [], bytes: 0, startMs: span.startMs, endMs: span.startMs + span.durationMs };
      this.#held.set(span.traceId, held);
    }
    const bytes = spanBytes(span);
    held.spans.push(span);
    held.bytes += bytes;
    held.startMs = Math.min(held.startMs, span.startMs);
    held.endMs = Math.max(held.endMs, span.startMs + span.durationMs);
    this.#heldBytes += bytes;
    this.#heldSpans += 1;
    return held;
  }

  /** Marks a trace kept, moving any spans of it still held into `keep`. */
  #keep(traceId: string, keep: SpanRecord[]): void {
    const held = this.#held.get(traceId);
    if (held !== undefined) {
      this.#release(traceId, held);
      this.#promoted += held.spans.length;
      keep.push(...held.spans);
    }
    if (this.#kept.has(traceId)) return;
    this.#kept.set(traceId, true);
    if (this.#kept.size > KEPT_IDS) this.#kept.delete(this.#kept.keys().next().value as string);
  }

  #release(traceId: string, held: Held): void {
    this.#held.delete(traceId);
    this.#heldBytes -= held.bytes;
    this.#heldSpans -= held.spans.length;
  }

  #discardOverBudget(): void {
    for (const [traceId, held] of this.#held) {
      if (this.#heldBytes <= this.#heldBudget) return;
      this.#release(traceId, held);
      this.#discarded += held.spans.length;
    }
  }
}
