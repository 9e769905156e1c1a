/**
 * @module A trace's critical path: the chain of spans that determined when the trace ended. From the root
 * that reaches latest, repeatedly take the child that reaches latest before the current point, then walk
 * back from that child's start to find the one before it; descend into each child taken the same way.
 *
 * A span "reaches" its own end or the latest reach of its children, whichever is later: a child that
 * ends after its parent (an event consumed after the publishing call answered) counts up to its own end
 * instead of being cut at its parent's. A span whose parent is not in the trace is a root; of several
 * roots, the one that reaches latest starts the path. Zero-length spans take part like any other.
 */
import type { SpanRecord } from "./span-record.js";

/** The span ids on the trace's critical path, by start time; empty for no spans. */
export function criticalPath(spans: readonly SpanRecord[]): string[] {
  if (spans.length === 0) return [];
  const byId = new Map<string, SpanRecord>();
  for (const span of spans) byId.set(span.spanId, span);
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const span of byId.values()) {
    const parent = span.parentSpanId;
    if (parent === undefined || parent === span.spanId || !byId.has(parent)) roots.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const reach = reaches(roots, children);
  // Spans in a loop of parents (malformed input) are reachable from no root: they have no reach and are left out.
  const first = latest(roots, reach);
  if (first === undefined) return [];
  // Which children of a span are on the path depends on their reach only, so each span is expanded on its own.
  const path: SpanRecord[] = [];
  const pending = [first];
  for (let span = pending.pop(); span !== undefined; span = pending.pop()) {
    path.push(span);
    let point = reach.get(span.spanId) as number;
    const candidates = [...(children.get(span.spanId) ?? [])];
    for (;;) {
      const next = latest(
        candidates.filter((c) => (reach.get(c.spanId) as number) <= point),
        reach,
      );
      if (next === undefined) break;
      candidates.splice(candidates.indexOf(next), 1);
      pending.push(next);
      point = next.startMs;
    }
  }
  return path.sort((a, b) => a.startMs - b.startMs || compare(a.spanId, b.spanId)).map((s) => s.spanId);
}

/** Each span's reach (see the module's comment), computed from the leaves up. */
function reaches(roots: readonly SpanRecord[], children: ReadonlyMap<string, SpanRecord[]>): Map<string, number> {
  const reach = new Map<string, number>();
  // Iterative post-order, so a deep chain of spans cannot overflow the stack.
  const stack: { span: SpanRecord; expanded: boolean }[] = roots.map((span) => ({ span, expanded: false }));
  while (stack.length > 0) {
    const top = stack.pop() as { span: SpanRecord; expanded: boolean };
    const kids = children.get(top.span.spanId) ?? [];
    if (!top.expanded) {
      stack.push({ span: top.span, expanded: true });
      for (const kid of kids) stack.push({ span: kid, expanded: false });
      continue;
    }
    let end = top.span.startMs + top.span.durationMs;
    for (const kid of kids) end = Math.max(end, reach.get(kid.spanId) as number);
    reach.set(top.span.spanId, end);
  }
  return reach;
}

/** The span that reaches latest; a tie goes to the one that started latest, then to the lower span id. */
function latest(spans: readonly SpanRecord[], reach: ReadonlyMap<string, number>): SpanRecord | undefined {
  let best: SpanRecord | undefined;
  for (const span of spans) {
    if (best === undefined) {
      best = span;
      continue;
    }
    const a = reach.get(span.spanId) as number;
    const b = reach.get(best.spanId) as number;
    if (
      a > b ||
      (a === b && (span.startMs > best.startMs || (span.startMs === best.startMs && span.spanId < best.spanId)))
    )
      best = span;
  }
  return best;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
