/** @module The Topology view's data: services and their instances, from the registry when there is one, else this process. */
import { hostname } from "node:os";
import type { Host, InstanceInfo, Registry } from "@flotilla/core";
import type { Tracer } from "@opentelemetry/api";

/** One running copy of a service, as the dashboard shows it. */
export interface InstanceView {
  readonly instance: string;
  /** The service contract's version; null when the process cannot tell (no registry). */
  readonly version: string | null;
  /** Where it runs: machine name and process id, and its ops address when it has one. */
  readonly host: string;
  readonly pid: number;
  readonly endpoint: string | null;
  readonly ready: boolean;
  /** Calls in flight, as the instance last reported; null when unknown. */
  readonly inFlight: number | null;
  readonly startedAt: string | null;
}

/** `up`: every instance ready; `degraded`: some; `down`: none (or no instance at all). */
export type ServiceHealth = "up" | "degraded" | "down";

export interface ServiceView {
  readonly name: string;
  readonly health: ServiceHealth;
  /** Whether the gateway routes requests to it. */
  readonly routed: boolean;
  readonly instances: readonly InstanceView[];
}

/** What `GET /_flotilla/api/topology` answers and each `topology` event of `GET /_flotilla/api/events` carries. */
export interface Topology {
  readonly generatedAt: string;
  /** Where the instances were read: the service registry, or the gateway's own process. */
  readonly source: "registry" | "process";
  /** The id of the host serving the dashboard. */
  readonly host: string;
  readonly services: readonly ServiceView[];
  /**
   * Whether the panel also offers the calls and events seen in recent spans (`GET …/topology/edges`, the
   * `topology-edges` topic); set by the panel, absent from `readTopology`'s answer.
   */
  readonly observed?: boolean;
}

/**
 * What the topology needs of the process serving it: its id, the services to list and, without a
 * registry, whether they are ready. `flotilla dashboard` runs no service and gives the app's names.
 */
export type TopologyHost = Pick<Host, "id" | "services" | "isReady">;

/** Where a topology is read from. */
export interface TopologySource {
  readonly host: TopologyHost;
  /** The registry the services register with; absent, the services of `host` are shown as this process runs them. */
  readonly registry?: Registry | undefined;
  /** Services to show besides the host's own: those the gateway routes to (which may run elsewhere). */
  readonly routed?: readonly string[] | undefined;
  readonly tracer?: Tracer | undefined;
}

/** Reads the current topology, in a span `dashboard.topology` when a tracer is given. */
export async function readTopology(source: TopologySource): Promise<Topology> {
  const { tracer } = source;
  if (tracer === undefined) return build(source);
  return tracer.startActiveSpan("dashboard.topology", async (span) => {
    try {
      const topology = await build(source);
      span.setAttribute("flotilla.dashboard.services", topology.services.length);
      span.setAttribute(
        "flotilla.dashboard.instances",
        topology.services.reduce((n, s) => n + s.instances.length, 0),
      );
      span.setAttribute("flotilla.dashboard.source", topology.source);
      return topology;
    } finally {
      span.end();
    }
  });
}

async function build({ host, registry, routed = [] }: TopologySource): Promise<Topology> {
  const routedSet = new Set(routed);
  const names = [...new Set([...host.services, ...routed])].sort();
  const local = registry === undefined ? await localInstances(host) : undefined;
  const services = names.map((name): ServiceView => {
    const instances =
      registry === undefined ? (local?.get(name) ?? []) : registry.instances(name).map(fromRegistry).sort(byInstance);
    return { name, health: healthOf(instances), routed: routedSet.has(name), instances };
  });
  return {
    generatedAt: new Date().toISOString(),
    source: registry === undefined ? "process" : "registry",
    host: host.id,
    services,
  };
}

function fromRegistry(info: InstanceInfo): InstanceView {
  return {
    instance: info.instance,
    version: info.version,
    host: info.host,
    pid: info.pid,
    endpoint: info.endpoint ?? null,
    ready: info.ready,
    inFlight: info.load.inFlight,
    startedAt: info.startedAt,
  };
}

/** Without a registry the host's services are its own: one instance each, ready when the host is. */
async function localInstances(host: TopologyHost): Promise<Map<string, InstanceView[]>> {
  const ready = await host.isReady();
  const machine = hostname();
  return new Map(
    host.services.map((name) => [
      name,
      [
        {
          instance: `${name}-${host.id}`,
          version: null,
          host: machine,
          pid: process.pid,
          endpoint: null,
          ready,
          inFlight: null,
          startedAt: null,
        },
      ],
    ]),
  );
}

function healthOf(instances: readonly InstanceView[]): ServiceHealth {
  const ready = instances.filter((i) => i.ready).length;
  if (ready === 0) return "down";
  return ready === instances.length ? "up" : "degraded";
}

function byInstance(a: InstanceView, b: InstanceView): number {
  return a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0;
}
