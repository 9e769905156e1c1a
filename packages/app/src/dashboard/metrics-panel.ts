/**
 * @module The Metrics and scaling panel: `GET /_flotilla/api/metrics` (RED series per route, action and
 * event handler, the outbox backlog, instances per service) and its `metrics` topic; with a supervisor,
 * `GET …/metrics/scaling` and its `scaling` topic (units over time, decisions), and the admin actions
 * `POST …/metrics/scale` and `POST …/metrics/restart`, each recorded in the audit log.
 */
import { FlotillaError } from "@flotilla/core";
import type { DashboardCaller, Panel, PanelRequest, PanelRoute, Topic } from "@flotilla/dashboard";
import type { DashboardContext } from "./dashboard-context.js";
import { MetricsSampler } from "./metrics-sampler.js";
import { SupervisorClient } from "./supervisor-client.js";
import { ScalingWatch } from "./supervisor-scaling.js";

/** The sampler's period: the `metrics` topic's tick. */
const SAMPLE_MS = 5_000;

export function metricsPanel(ctx: DashboardContext): Panel | undefined {
  if (ctx.metrics === undefined && ctx.registry === undefined && ctx.supervisor === undefined) return undefined;
  const localServices = ctx.host?.services ?? [];
  const services = [...new Set([...(ctx.app?.services.map((s) => s.name) ?? []), ...localServices])].sort();
  const sampler = new MetricsSampler({
    local: ctx.metrics,
    localServices,
    services,
    registry: ctx.registry,
    sampleMs: SAMPLE_MS,
    tracer: ctx.tracer,
    log: ctx.log,
  });
  const routes: PanelRoute[] = [
    {
      method: "GET",
      path: "",
      handle: async () => {
        await sampler.sampleIfStale();
        return { ...sampler.view(), supervisor: ctx.supervisor !== undefined };
      },
    },
  ];
  const topics: Topic[] = [
    {
      name: "metrics",
      everyMs: SAMPLE_MS,
      // The newest point of each series: the page read the history once and appends.
      read: async () => {
        await sampler.sampleIfStale();
        return { ...sampler.view(1), supervisor: ctx.supervisor !== undefined };
      },
    },
  ];
  if (ctx.supervisor !== undefined) {
    const client = new SupervisorClient(ctx.supervisor);
    const watch = new ScalingWatch({ client, tracer: ctx.tracer, log: ctx.log });
    routes.push(...scalingRoutes(ctx, client, watch));
    topics.push({ name: "scaling", start: (publish) => watch.start(publish) });
  }
  return { id: "metrics", title: "Metrics", routes, topics };
}

function scalingRoutes(ctx: DashboardContext, client: SupervisorClient, watch: ScalingWatch): PanelRoute[] {
  return [
    { method: "GET", path: "/scaling", handle: () => watch.read() },
    {
      method: "POST",
      path: "/scale",
      handle: async (req) => {
        const who = adminOf(req);
        const { unit, instances } = scaleBody(req.body);
        const decision = await audited(ctx, who, "unit.scale", `${unit}=${instances}`, () =>
          client.scale(unit, instances, `dashboard: ${who}`),
        );
        return { decision, scaling: await watch.read() };
      },
    },
    {
      method: "POST",
      path: "/restart",
      handle: async (req) => {
        const who = adminOf(req);
        const unit = unitOf(req.body);
        await audited(ctx, who, "unit.restart", unit, () => client.restart(unit));
        return { restarted: unit, scaling: await watch.read() };
      },
    },
  ];
}

/** Actions change the running system: an admin only, whatever the dashboard's read policies let in. */
function adminOf(req: PanelRequest): string {
  const caller: DashboardCaller | undefined = req.caller;
  if (caller !== undefined && !caller.roles.includes("admin")) {
    throw new FlotillaError("PERMISSION_DENIED", "scaling and restarting units is for admins");
  }
  return caller?.subject ?? "anonymous";
}

function unitOf(body: unknown): string {
  const unit = (body as { unit?: unknown } | undefined)?.unit;
  if (typeof unit !== "string" || unit === "")
    throw new FlotillaError("INVALID_ARGUMENT", 'the body must name a unit: {"unit": "…"}');
  return unit;
}

function scaleBody(body: unknown): { unit: string; instances: number } {
  const unit = unitOf(body);
  const instances = (body as { instances?: unknown }).instances;
  if (typeof instances !== "number" || !Number.isInteger(instances) || instances < 0) {
    throw new FlotillaError("INVALID_ARGUMENT", 'the body must say how many instances: {"unit": "…", "instances": N}');
  }
  return { unit, instances };
}

/** Runs an action and records it with its outcome (`ok` or the error's code), failed or not. */
async function audited<T>(
  ctx: DashboardContext,
  who: string,
  action: string,
  target: string,
  run: () => Promise<T>,
): Promise<T> {
  const record = (outcome: string) =>
    ctx.audit?.record({ at: Date.now(), who, action, target, outcome }).catch((err: unknown) => {
      ctx.log.warn({ err, action, target }, "dashboard: an action could not be recorded in the audit log");
    });
  try {
    const result = await run();
    await record("ok");
    return result;
  } catch (err) {
    await record(FlotillaError.from(err).code);
    throw err;
  }
}
