/** @module Reading the recent past a transport retains, for a gateway's live replay buffer as it starts. */
import type { PositionedEvent } from "@flotilla/core";

/**
 * The events `source` yields, streams interleaved by the time their events were emitted (a transport
 * reads one stream after another), at most the newest `max`: the buffer would evict older ones anyway. Stops early, with what it read, when `signal` aborts.
 */
export async function primed(
  source: Promise<AsyncIterable<PositionedEvent>>,
  max: number,
  signal: AbortSignal,
): Promise<PositionedEvent[]> {
  const iterator = (await source)[Symbol.asyncIterator]();
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
  let kept: PositionedEvent[] = [];
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === undefined || next.done) break;
      kept.push(next.value);
      if (kept.length >= 2 * max) kept = newest(kept, max);
    }
  } finally {
    // Closes the transport's readers (JetStream consumers) also when time ran out mid-read.
    void iterator.return?.().catch(() => undefined);
  }
  return newest(kept, max);
}

/**
 * The newest `max`, streams merged by emission time with each stream's own order kept (positions in a
 * stream only grow, as resumes need; times across services' outboxes are only roughly ordered).
 */
function newest(events: readonly PositionedEvent[], max: number): PositionedEvent[] {
  const byStream = new Map<string, PositionedEvent[]>();
  for (const e of events) {
    const list = byStream.get(e.position.stream);
    if (list === undefined) byStream.set(e.position.stream, [e]);
    else list.push(e);
  }
  const lists = [...byStream.values()];
  const heads = lists.map(() => 0);
  const merged: PositionedEvent[] = [];
  for (;;) {
    let pick = -1;
    let pickTime = Number.POSITIVE_INFINITY;
    for (let i = 0; i < lists.length; i++) {
      const head = (lists[i] as PositionedEvent[])[heads[i] as number];
      if (head === undefined) continue;
      const time = Date.parse(head.event.time) || 0;
      if (pick === -1 || time < pickTime) {
        pick = i;
        pickTime = time;
      }
    }
    if (pick === -1) break;
    merged.push((lists[pick] as PositionedEvent[])[heads[pick] as number] as PositionedEvent);
    heads[pick] = (heads[pick] as number) + 1;
  }
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}
