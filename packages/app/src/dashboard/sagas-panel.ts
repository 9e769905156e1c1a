/**
 * @module The Sagas panel: `GET /_flotilla/api/sagas?status=&type=&limit=` (summaries of every saga
 * service, with counts and the services that could not be read), `GET /_flotilla/api/sagas/:id` (one
 * saga with its timeline), and the `sagas` topic (counts and the newest, every 2 s).
 */
import type { Panel } from "@flotilla/dashboard";
import { isSagaOrchestrator } from "@flotilla/saga";
import { sagaFilterFromParams, sagaReaders } from "../saga-readers.js";
import type { DashboardContext } from "./dashboard-context.js";
import { sagaSource } from "./sagas-source.js";
import { sagaTimeline } from "./sagas-timeline.js";

/** How many of the newest sagas the live topic sends. */
const NEWEST = 10;

export function sagasPanel(ctx: DashboardContext, refreshMs = 2_000): Panel | undefined {
  // Declared by the app's definitions, so services running elsewhere are asked too.
  const declared = (ctx.app?.services ?? []).filter((s) => s.orchestrators.some(isSagaOrchestrator)).map((s) => s.name);
  const here = ctx.host === undefined ? [] : sagaReaders(ctx.host).map((r) => r.service);
  const services = [...new Set([...declared, ...here])].sort();
  if (services.length === 0) return undefined;
  const source = sagaSource({ services, host: ctx.host, registry: ctx.registry, tracer: ctx.tracer });
  return {
    id: "sagas",
    title: "Sagas",
    routes: [
      { method: "GET", path: "", handle: (req) => source.list(sagaFilterFromParams(req.query)) },
      {
        method: "GET",
        path: "/:id",
        async handle(req) {
          const saga = await source.get(req.params.id ?? "");
          return { ...saga, timeline: sagaTimeline(saga) };
        },
      },
    ],
    topics: [
      {
        name: "sagas",
        everyMs: refreshMs,
        async read() {
          const { sagas, counts, unreadable } = await source.list({ limit: NEWEST });
          return { counts, newest: sagas, unreadable };
        },
      },
    ],
  };
}
