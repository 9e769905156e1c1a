/**
 * @module The Dead letters panel: `GET /_flotilla/api/dead-letters[?group=]`, `GET …/letter/:id`,
 * `POST …/retry` and `POST …/drop` with `{ ids: [...] }` (one or many; each id's outcome answered, a
 * failure does not stop the rest; each action recorded in the audit log with who did it), `GET …/audit`,
 * and the polled `dead-letters` topic (the count per group and the newest letters).
 */
import { FlotillaError, type StoredDeadLetter } from "@flotilla/core";
import type { Panel, PanelRequest } from "@flotilla/dashboard";
import type { AppEvents } from "../app-events.js";
import type { DashboardContext } from "./dashboard-context.js";
import { auditTarget, details, summarize } from "./dead-letters-read.js";
import { declaredEvents } from "./event-flow-catalog.js";
import { spanned } from "./flow-spans.js";

/** Ids one action may name. */
const MAX_IDS = 500;
/** Letters the list answers at most (the newest), and the topic sends. */
const MAX_LISTED = 1_000;
const TOPIC_NEWEST = 20;

export interface ActionOutcome {
  readonly id: string;
  /** `ok`, or the error code it failed with. */
  readonly outcome: string;
  readonly message?: string;
}

export function deadLettersPanel(ctx: DashboardContext): Panel | undefined {
  const events = ctx.events;
  if (events === undefined) return undefined;
  const declared = declaredEvents(ctx.app);
  const tracer = ctx.tracer;

  const overview = async (group: string | undefined) => {
    const letters = await events.deadLetters.list(group);
    const counts: Record<string, number> = {};
    for (const l of letters) counts[l.group] = (counts[l.group] ?? 0) + 1;
    return { total: letters.length, counts, letters: letters.slice(-MAX_LISTED).reverse().map(summarize) };
  };

  const act = (action: "retry" | "drop") => async (req: PanelRequest) =>
    spanned(tracer, `dashboard.dead-letters.${action}`, async () => {
      const ids = idsOf(req.body);
      const who = req.caller?.subject ?? "anonymous";
      const results: ActionOutcome[] = [];
      // One at a time, in the order given: a retry is a publish, and the audit reads in that order.
      for (const id of ids) results.push(await actOn(events, ctx, action, id, who));
      return { results };
    });

  return {
    id: "dead-letters",
    title: "Dead letters",
    routes: [
      {
        method: "GET",
        path: "",
        handle: (req) =>
          spanned(tracer, "dashboard.dead-letters.list", () => overview(req.query.get("group") || undefined)),
      },
      {
        method: "GET",
        path: "/letter/:id",
        handle: (req) =>
          spanned(tracer, "dashboard.dead-letters.get", async () => {
            const id = req.params.id ?? "";
            const letter = await events.deadLetters.get(id);
            if (letter === undefined) throw new FlotillaError("NOT_FOUND", `no dead letter ${id}`, { details: { id } });
            return details(letter, await events.deadLetters.list(), declared, ctx.audit);
          }),
      },
      { method: "POST", path: "/retry", handle: act("retry") },
      { method: "POST", path: "/drop", handle: act("drop") },
      {
        method: "GET",
        path: "/audit",
        handle: async (req) => {
          const limit = Number(req.query.get("limit") ?? 100);
          const entries = await ctx.audit?.list({
            limit: Number.isFinite(limit) ? limit : 100,
            ...(req.query.get("action") ? { action: req.query.get("action") as string } : {}),
          });
          return { entries: entries ?? [] };
        },
      },
    ],
    topics: [
      {
        name: "dead-letters",
        everyMs: 2_000,
        read: async () => {
          const { total, counts, letters } = await overview(undefined);
          return { total, counts, newest: letters.slice(0, TOPIC_NEWEST) };
        },
      },
    ],
  };
}

async function actOn(
  events: AppEvents,
  ctx: DashboardContext,
  action: "retry" | "drop",
  id: string,
  who: string,
): Promise<ActionOutcome> {
  let letter: StoredDeadLetter | undefined;
  let outcome: ActionOutcome;
  try {
    letter = await events.deadLetters.get(id);
    if (letter === undefined) throw new FlotillaError("NOT_FOUND", `no dead letter ${id}`);
    await events.deadLetters[action](id);
    outcome = { id, outcome: "ok" };
  } catch (err) {
    const code = err instanceof FlotillaError ? err.code : "INTERNAL";
    outcome = { id, outcome: code, message: err instanceof Error ? err.message : String(err) };
  }
  await ctx.audit?.record({
    at: Date.now(),
    who,
    action: `dead-letter.${action}`,
    target: letter === undefined ? `letter ${id}` : auditTarget(letter),
    outcome: outcome.outcome,
  });
  return outcome;
}

function idsOf(body: unknown): string[] {
  const ids = (body as { ids?: unknown } | undefined)?.ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((i) => typeof i === "string")) {
    throw new FlotillaError("INVALID_ARGUMENT", `the body must be { "ids": [...] } with 1 to ${MAX_IDS} letter ids`);
  }
  return [...new Set(ids as string[])];
}
