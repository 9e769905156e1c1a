/**
 * @module The Event flow panel (id `flow`; `/_flotilla/api/events` is the event stream itself):
 * `GET /_flotilla/api/flow` per declared event type, `GET …/event/:id` one event's path, the polled `flow`
 * topic (the same table every 2 s) and the push topic `flow.messages` (live messages, see flow-live.ts).
 */
import { FlotillaError } from "@flotilla/core";
import type { Panel, Topic } from "@flotilla/dashboard";
import { attributes as attr, MAX_SPAN_READ } from "@flotilla/telemetry";
import type { DashboardContext } from "./dashboard-context.js";
import { declaredEvents } from "./event-flow-catalog.js";
import { readOverview } from "./event-flow-overview.js";
import { eventPaths } from "./event-flow-stages.js";
import { liveMessages } from "./flow-live.js";
import { spanned } from "./flow-spans.js";

/** How far back an event id is looked for among the kept spans. */
const EVENT_LOOKBACK_MS = 24 * 3_600_000;

export function eventFlowPanel(ctx: DashboardContext): Panel | undefined {
  if (ctx.app === undefined) return undefined;
  const declared = declaredEvents(ctx.app);
  const tracer = ctx.tracer;
  const overview = () => spanned(tracer, "dashboard.flow.overview", () => readOverview(ctx, declared, Date.now()));
  const topics: Topic[] = [{ name: "flow", everyMs: 2_000, read: overview }];
  if (ctx.transport !== undefined) topics.push(liveMessages(ctx.transport, declared, ctx.log));
  return {
    id: "flow",
    title: "Event flow",
    routes: [
      { method: "GET", path: "", handle: overview },
      {
        method: "GET",
        path: "/event/:id",
        handle: (req) =>
          spanned(tracer, "dashboard.flow.event", async () => {
            const id = req.params.id ?? "";
            const traces = ctx.traces;
            if (traces === undefined) {
              throw new FlotillaError(
                "FAILED_PRECONDITION",
                "this process keeps no spans: an event's path cannot be read",
              );
            }
            const spans = await traces.spans({ sinceMs: Date.now() - EVENT_LOOKBACK_MS, limit: MAX_SPAN_READ });
            const found = spans.find((s) => s.attributes[attr.MESSAGING_MESSAGE_ID] === id);
            if (found === undefined) {
              throw new FlotillaError("NOT_FOUND", `no span of event ${id} is kept`, { details: { id } });
            }
            // The whole trace: the handlers' `db transaction` spans carry no event id.
            const path = eventPaths(await traces.trace(found.traceId)).get(id);
            if (path === undefined) throw new FlotillaError("NOT_FOUND", `no span of event ${id} is kept`);
            return path;
          }),
      },
    ],
    topics,
  };
}
