/**
 * @module A unit's signals read from what its instances already publish: in-flight calls from the NATS
 * registry (each instance's heartbeat), consumer lag from JetStream as KEDA's `nats-jetstream` scaler
 * reads it, CPU from /proc.
 */
import type { ResolvedUnit } from "@flotilla/app";
import type { InstanceInfo } from "@flotilla/core";
import { KvRegistry } from "@flotilla/nats";
import { eventStream, safeName } from "@flotilla/nats/internal";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { SpanKind, type Tracer } from "@opentelemetry/api";
import { CpuSampler } from "./cpu-sampler.js";
import type { SignalName, SignalSource, UnitSignals } from "./index.js";

export interface SignalSourceOptions {
  /** The NATS server the unit's instances use: `nats://host:port`. */
  natsUrl: string;
  /** The registry's KV bucket (default `flotilla_registry`). */
  registryBucket?: string;
  /** Each read becomes an INTERNAL span `autoscale signals <unit>` carrying what was read. */
  tracer?: Tracer;
}

/** Every event stream is `FLOTILLA_EVT_<SERVICE>`. */
const STREAM_PREFIX = eventStream("");

/** Connects on first read; `close()` ends the connection. */
export function signalSource(options: SignalSourceOptions): SignalSource {
  return new NatsSignalSource(options);
}

interface Link {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly registry: KvRegistry;
}

class NatsSignalSource implements SignalSource {
  private link: Promise<Link> | undefined;
  private readonly cpu = new CpuSampler();

  constructor(private readonly options: SignalSourceOptions) {}

  async read(unit: ResolvedUnit, pids: readonly number[]): Promise<UnitSignals> {
    const span = this.options.tracer?.startSpan(`autoscale signals ${unit.name}`, {
      kind: SpanKind.INTERNAL,
      attributes: { "flotilla.unit": unit.name, "flotilla.autoscale.pids": pids.length },
    });
    const failed: SignalName[] = [];
    const link = await this.opened().catch(() => undefined);
    if (link === undefined) failed.push("inFlight", "lag");
    const instances = link === undefined ? [] : unitInstances(link.registry, unit, pids);
    const ready = instances.filter((i) => i.ready);
    const [lag, cpuPercent] = await Promise.all([
      link === undefined || unit.services.length === 0
        ? undefined
        : unitLag(link.jsm, unit).catch(() => {
            failed.push("lag");
            return undefined;
          }),
      this.cpuOf(pids),
    ]);
    const signals: UnitSignals = {
      // A process serving several services registers once per service: count processes.
      readyInstances: unit.services.length === 0 ? pids.length : new Set(ready.map((i) => i.pid)).size,
      ...(unit.services.length === 0 || link === undefined
        ? {}
        : { inFlight: ready.reduce((n, i) => n + i.load.inFlight, 0) }),
      ...(lag === undefined ? {} : { lag }),
      ...(cpuPercent === undefined ? {} : { cpuPercent }),
      ...(failed.length === 0 ? {} : { failed }),
    };
    span?.setAttributes({
      "flotilla.autoscale.ready": signals.readyInstances,
      ...(signals.inFlight === undefined ? {} : { "flotilla.autoscale.in_flight": signals.inFlight }),
      ...(lag === undefined ? {} : { "flotilla.autoscale.lag": lag }),
      ...(cpuPercent === undefined ? {} : { "flotilla.autoscale.cpu_percent": cpuPercent }),
      ...(failed.length === 0 ? {} : { "flotilla.autoscale.failed": failed.join(",") }),
    });
    span?.end();
    return signals;
  }

  async close(): Promise<void> {
    const link = await this.link?.catch(() => undefined);
    this.link = undefined;
    if (link === undefined) return;
    await link.registry.close();
    await link.nc.close();
  }

  /** Mean CPU over the pids read before; undefined off Linux and on a pid set's first read. */
  private async cpuOf(pids: readonly number[]): Promise<number | undefined> {
    if (!CpuSampler.supported || pids.length === 0) return undefined;
    const percents = [...(await this.cpu.read(pids)).values()];
    return percents.length === 0 ? undefined : percents.reduce((a, b) => a + b, 0) / percents.length;
  }

  private opened(): Promise<Link> {
    this.link ??= this.open().catch((err: unknown) => {
      this.link = undefined;
      throw err;
    });
    return this.link;
  }

  private async open(): Promise<Link> {
    const nc = await connect({ servers: this.options.natsUrl, name: "flotilla-autoscaler", maxReconnectAttempts: -1 });
    const registry = new KvRegistry({
      connection: nc,
      ...(this.options.registryBucket === undefined ? {} : { bucket: this.options.registryBucket }),
    });
    try {
      await registry.connect();
      return { nc, jsm: await jetstreamManager(nc), registry };
    } catch (err) {
      await registry.close();
      await nc.close();
      throw err;
    }
  }
}

/** Instances of the unit's services; with pids given, only those processes' (the supervisor's own). */
function unitInstances(registry: KvRegistry, unit: ResolvedUnit, pids: readonly number[]): InstanceInfo[] {
  const wanted = new Set(pids);
  return unit.services
    .flatMap((service) => registry.instances(service))
    .filter((i) => wanted.size === 0 || wanted.has(i.pid));
}

/**
 * KEDA's reading of a consumer's lag, `num_pending + num_ack_pending`, for each durable consumer of the
 * unit's services (named `<service>_<handler>`, on every emitting service's stream), and the largest of
 * them: in a cluster each consumer is a trigger of the unit's ScaledObject and the HPA follows the
 * trigger asking for most instances. Undefined when the unit has no consumer.
 */
async function unitLag(jsm: JetStreamManager, unit: ResolvedUnit): Promise<number | undefined> {
  const prefixes = unit.services.map((s) => `${safeName(s)}_`);
  let lag: number | undefined;
  for await (const stream of jsm.streams.names()) {
    if (!stream.startsWith(STREAM_PREFIX)) continue;
    for await (const consumer of jsm.consumers.list(stream)) {
      const durable = consumer.config.durable_name;
      if (durable === undefined || !prefixes.some((p) => durable.startsWith(p))) continue;
      lag = Math.max(lag ?? 0, consumer.num_pending + consumer.num_ack_pending);
    }
  }
  return lag;
}
