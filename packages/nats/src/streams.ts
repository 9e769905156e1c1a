/** @module Idempotent creation of the event streams, the dead-letter stream and consumers. */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { DLQ_PREFIX, DLQ_STREAM, eventStream, eventStreamSubjects } from "./subjects.js";

export interface StreamSettings {
  /** How long events are kept (limits retention), default 7 days. */
  eventMaxAgeMs: number;
  /** Window in which a republished event id is dropped as a duplicate, default 2 minutes. */
  duplicateWindowMs: number;
  replicas: number;
}

export interface ConsumerSettings {
  /** Redelivery of a message whose member went silent; handlers that run longer send progress. */
  ackWaitMs: number;
  /** Unacknowledged messages a group may hold across its members. */
  maxAckPending: number;
}

/** Creates each stream once per process and remembers it; safe to race with other processes. */
export class Streams {
  private readonly ensured = new Map<string, Promise<void>>();
  /** Streams made sure of: a publish to them need not wait for anything. */
  private readonly known = new Set<string>();
  private readonly names = new Map<string, string>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly settings: StreamSettings,
  ) {}

  /** The stream holding a service's events; returns its name. */
  async forService(service: string): Promise<string> {
    const name = eventStream(service);
    await this.ensure(name, {
      name,
      subjects: [eventStreamSubjects(service)],
      max_age: nanos(this.settings.eventMaxAgeMs),
      duplicate_window: nanos(this.settings.duplicateWindowMs),
    });
    return name;
  }

  /** Dead letters are kept until an operator removes them (no age limit). */
  async deadLetters(): Promise<string> {
    await this.ensure(DLQ_STREAM, {
      name: DLQ_STREAM,
      subjects: [`${DLQ_PREFIX}>`],
      duplicate_window: nanos(this.settings.duplicateWindowMs),
    });
    return DLQ_STREAM;
  }

  /** Whether the service's stream is known to exist (`forService` resolved and nothing forgot it since). */
  isKnown(service: string): boolean {
    let name = this.names.get(service);
    if (name === undefined) {
      name = eventStream(service);
      if (this.names.size < 10_000) this.names.set(service, name);
    }
    return this.known.has(name);
  }

  /** Forgets what was ensured, e.g. after a stream was found missing. */
  forget(stream: string): void {
    this.ensured.delete(stream);
    this.known.delete(stream);
  }

  private ensure(name: string, config: Partial<StreamConfig> & { name: string }): Promise<void> {
    let ready = this.ensured.get(name);
    if (ready === undefined) {
      ready = this.create({
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: this.settings.replicas,
        ...config,
      }).then(
        () => {
          if (this.ensured.get(name) === ready) this.known.add(name);
        },
        (err: unknown) => {
          this.ensured.delete(name);
          throw err;
        },
      );
      this.ensured.set(name, ready);
    }
    return ready;
  }

  private async create(config: Partial<StreamConfig> & { name: string }): Promise<void> {
    try {
      await this.jsm.streams.info(config.name);
      return; // an existing stream keeps the configuration an operator may have tuned
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    }
    try {
      await this.jsm.streams.add(config);
    } catch (err) {
      // Another process created it in between.
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
    }
  }
}

const STREAM_NAME_IN_USE = 10058;

/** A durable (group) or ephemeral (broadcast) pull consumer, created unless it exists. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { filter_subject: string },
  settings: ConsumerSettings,
): Promise<ConsumerInfo> {
  const name = config.durable_name ?? config.name;
  if (name !== undefined) {
    try {
      return await jsm.consumers.info(stream, name);
    } catch (err) {
      if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    }
  }
  return jsm.consumers.add(stream, {
    ack_policy: AckPolicy.Explicit,
    // A new group starts with the events published from now on; from then on it keeps its place.
    deliver_policy: DeliverPolicy.New,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
    // Redeliveries and dead-lettering are decided by the member (maxDeliveries), never by the server.
    max_deliver: -1,
    ...config,
  });
}

/**
 * No stream took a publish (nats.js reports no responders as "JetStream not enabled"): the stream was
 * deleted, or was created a moment ago and does not listen yet.
 */
export function isNoStream(err: unknown): boolean {
  return err instanceof Error && err.name === "JetStreamNotEnabled";
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}
