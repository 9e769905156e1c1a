/**
 * @module The Event flow view's table: per declared event type, its publisher and groups, its recent rate,
 * the time at each stage (from the spans of the last minutes), each group's lag and dead letters.
 */
import type { DashboardContext } from "./dashboard-context.js";
import type { DeclaredEvent } from "./event-flow-catalog.js";
import { eventPaths, isEmit, type StageTimes, stageTimes } from "./event-flow-stages.js";

/** Spans read for the stage times: those of the last five minutes, at most this many. */
export const STAGE_WINDOW_MS = 5 * 60_000;
const STAGE_SPANS = 20_000;
/** The rate is over the last minute. */
const RATE_WINDOW_MS = 60_000;

export interface GroupFlow {
  readonly name: string;
  /** Events stored but not yet handled; null where this process cannot read it (no member here). */
  readonly lag: number | null;
  readonly deadLetters: number;
  readonly wait: StageTimes | undefined;
  readonly handler: StageTimes | undefined;
  readonly transaction: StageTimes | undefined;
}

export interface TypeFlow {
  readonly type: string;
  readonly publisher: string;
  readonly broadcasts: readonly string[];
  /** Events emitted in the last minute (their spans). */
  readonly lastMinute: number;
  readonly emit: StageTimes | undefined;
  readonly groups: readonly GroupFlow[];
}

export interface FlowOverview {
  readonly generatedAt: string;
  readonly windowMs: number;
  /** Whether stage times could be read at all (this process keeps spans). */
  readonly traced: boolean;
  readonly types: readonly TypeFlow[];
}

export async function readOverview(
  ctx: DashboardContext,
  declared: Map<string, DeclaredEvent>,
  now: number,
): Promise<FlowOverview> {
  const groups = [...declared.values()].flatMap((d) => d.groups);
  const noLag: Record<string, number> = {};
  const [spans, lag, letters] = await Promise.all([
    ctx.traces?.spans({ sinceMs: now - STAGE_WINDOW_MS, limit: STAGE_SPANS }) ?? [],
    ctx.transport?.lag?.() ?? noLag,
    deadLetterCounts(ctx, groups),
  ]);
  const emits = new Map<string, number[]>();
  const recent = new Map<string, number>();
  for (const s of spans) {
    if (!isEmit(s)) continue;
    const type = s.name.slice(0, -" publish".length);
    push(emits, type, s.durationMs);
    if (s.startMs >= now - RATE_WINDOW_MS) recent.set(type, (recent.get(type) ?? 0) + 1);
  }
  const waits = new Map<string, number[]>();
  const handlers = new Map<string, number[]>();
  const transactions = new Map<string, number[]>();
  for (const path of eventPaths(spans).values()) {
    for (const d of path.deliveries) {
      if (d.waitMs !== undefined) push(waits, d.group, d.waitMs);
      push(handlers, d.group, d.handlerMs);
      if (d.transactionMs !== undefined) push(transactions, d.group, d.transactionMs);
    }
  }
  return {
    generatedAt: new Date(now).toISOString(),
    windowMs: STAGE_WINDOW_MS,
    traced: ctx.traces !== undefined,
    types: [...declared.values()].map((d) => ({
      type: d.type,
      publisher: d.publisher,
      broadcasts: d.broadcasts,
      lastMinute: recent.get(d.type) ?? 0,
      emit: stageTimes(emits.get(d.type) ?? []),
      groups: d.groups.map((name) => ({
        name,
        lag: lag[name] ?? null,
        deadLetters: letters[name] ?? 0,
        wait: stageTimes(waits.get(name) ?? []),
        handler: stageTimes(handlers.get(name) ?? []),
        transaction: stageTimes(transactions.get(name) ?? []),
      })),
    })),
  };
}

async function deadLetterCounts(ctx: DashboardContext, groups: readonly string[]): Promise<Record<string, number>> {
  const store = ctx.events?.deadLetters;
  if (store === undefined) return {};
  if (store.counts) return store.counts(groups);
  const counts: Record<string, number> = {};
  for (const l of await store.list()) counts[l.group] = (counts[l.group] ?? 0) + 1;
  return counts;
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
