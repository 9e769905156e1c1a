/** @module NATS Services API (ADR-32) for one serving instance: `$SRV.PING|INFO|STATS[.<name>[.<id>]]`, endpoint stats. */
import type { ServeOptions, WireError } from "@flotilla/core";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { instanceSubject, instanceWildcard, rpcServiceSubject, rpcSubject } from "./subjects.js";

export const SERVICE_API_PREFIX = "$SRV";

const RESPONSE_TYPES: Record<string, string> = {
  PING: "io.nats.micro.v1.ping_response",
  INFO: "io.nats.micro.v1.info_response",
  STATS: "io.nats.micro.v1.stats_response",
};

/** What ADR-32 allows in service and endpoint names. */
const NAME = /^[A-Za-z0-9_-]+$/;
/** Semantic Versioning 2.0.0, as the ADR-32 schemas check it. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Endpoint {
  readonly name: string;
  readonly subject: string;
  readonly queue_group: string;
  readonly metadata: Record<string, string>;
  num_requests: number;
  num_errors: number;
  last_error: string;
  /** Nanoseconds spent in the handler, summed over requests. */
  processing_time: number;
}

/**
 * Answers NATS tooling (`nats micro ls|info|stats`) for one `serve()`: name = service, id = instance.
 * The subscriptions have no queue group, so every instance answers; `close()` stops answering at once.
 * A service or instance name ADR-32 cannot carry (outside `[A-Za-z0-9_-]`) is not announced.
 */
export class ServiceApi {
  private readonly subs: Subscription[] = [];
  /** By action (`service.action`); one endpoint for the whole service when the actions are not known. */
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly identity: { name: string; id: string; version: string; metadata: Record<string, string> };
  private readonly started = new Date().toISOString();

  constructor(nc: NatsConnection, opts: ServeOptions) {
    const { service, instance } = opts;
    const metadata: Record<string, string> = { "flotilla.instance_subject": instanceWildcard(instance, service) };
    const version = opts.version !== undefined && SEMVER.test(opts.version) ? opts.version : "0.0.0";
    if (opts.version !== undefined && version !== opts.version) metadata["flotilla.version"] = opts.version;
    this.identity = { name: service, id: instance, version, metadata };
    for (const action of opts.actions ?? []) {
      const name = action.startsWith(`${service}.`) ? action.slice(service.length + 1) : action;
      const subject = rpcSubject(action);
      this.endpoints.set(action, endpoint(name, subject, service, instanceSubject(instance, action)));
    }
    if (opts.actions === undefined) {
      this.endpoints.set("", endpoint("all", rpcServiceSubject(service), service, instanceWildcard(instance, service)));
    }
    if (!NAME.test(service) || !NAME.test(instance)) return;
    const prefix = `${SERVICE_API_PREFIX}.*`;
    for (const subject of [prefix, `${prefix}.${service}`, `${prefix}.${service}.${instance}`]) {
      // A user without the `$SRV` subjects is simply not listed by the tooling.
      this.subs.push(nc.subscribe(subject, { callback: (err, msg) => void (err === null && this.answer(msg)) }));
    }
  }

  /** Counts one request to `action` that took `nanos` in its handler and failed with `error`, if given. */
  record(action: string, nanos: number, error?: WireError): void {
    const stats = this.endpoints.get(action) ?? this.endpoints.get("");
    if (stats === undefined) return; // not a declared action: no endpoint to count it under
    stats.num_requests++;
    stats.processing_time += Math.round(nanos);
    if (error !== undefined) {
      stats.num_errors++;
      stats.last_error = `${error.code}: ${error.message}`;
    }
  }

  close(): void {
    for (const sub of this.subs.splice(0)) sub.unsubscribe();
  }

  private answer(msg: Msg): void {
    const verb = msg.subject.split(".")[1] ?? "";
    const type = RESPONSE_TYPES[verb];
    if (!msg.reply || type === undefined) return;
    const endpoints = [...this.endpoints.values()];
    let body: object = { type, ...this.identity };
    if (verb === "INFO") {
      const info = endpoints.map(({ name, subject, queue_group, metadata }) => ({
        name,
        subject,
        queue_group,
        metadata,
      }));
      body = { ...body, description: "", endpoints: info };
    } else if (verb === "STATS") {
      body = { ...body, started: this.started, endpoints: endpoints.map(statsOf) };
    }
    try {
      msg.respond(JSON.stringify(body));
    } catch {
      // the connection is gone; tooling times out on this instance
    }
  }
}

function endpoint(name: string, subject: string, queue: string, instanceAddress: string): Endpoint {
  return {
    name: name.replace(/[^A-Za-z0-9_-]/g, "_"),
    subject,
    queue_group: queue,
    metadata: { "flotilla.instance_subject": instanceAddress },
    num_requests: 0,
    num_errors: 0,
    last_error: "",
    processing_time: 0,
  };
}

function statsOf(e: Endpoint) {
  const { name, subject, queue_group, num_requests, num_errors, last_error, processing_time } = e;
  const average_processing_time = num_requests === 0 ? 0 : Math.round(processing_time / num_requests);
  return { name, subject, queue_group, num_requests, num_errors, last_error, processing_time, average_processing_time };
}
