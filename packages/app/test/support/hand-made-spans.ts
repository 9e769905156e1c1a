/** @module Hand-made spans for the dashboard's analyses: traces built call by call, as the tracing middleware would record them. */
import { SpanKinds, type SpanRecord, SpanStatuses } from "@flotilla/telemetry";

let next = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** A trace under construction: each method adds spans and answers the span later ones hang from. */
export class HandTrace {
  readonly traceId = hex(++next, 32);
  readonly spans: SpanRecord[] = [];
  private at = 1_700_000_000_000 + next * 10_000;

  span(
    service: string,
    name: string,
    kind: number,
    parent?: SpanRecord,
    extra: { durationMs?: number; error?: boolean; attributes?: SpanRecord["attributes"] } = {},
  ): SpanRecord {
    const span: SpanRecord = {
      traceId: this.traceId,
      spanId: hex(++next, 16),
      ...(parent ? { parentSpanId: parent.spanId } : {}),
      name,
      kind,
      startMs: this.at++,
      durationMs: extra.durationMs ?? 1,
      status: extra.error ? SpanStatuses.error : SpanStatuses.unset,
      service,
      attributes: extra.attributes ?? {},
      sampled: true,
    };
    this.spans.push(span);
    return span;
  }

  /** A gateway request: its SERVER span. */
  request(route = "POST /api/v1/orders"): SpanRecord {
    return this.span("gateway", route, SpanKinds.server);
  }

  /** `from` calls `to.action` under `parent`: the CLIENT span and the callee's SERVER span (answered). */
  call(
    parent: SpanRecord,
    to: string,
    action: string,
    extra: { durationMs?: number; error?: boolean } = {},
  ): SpanRecord {
    const client = this.span(parent.service, `${to}.${action}`, SpanKinds.client, parent);
    return this.span(to, `${to}.${action}`, SpanKinds.server, client, extra);
  }

  /** `parent`'s service publishes `type`; each of `consumers` (service and group) handles it. */
  publish(
    parent: SpanRecord,
    type: string,
    consumers: { service: string; group: string; error?: boolean }[],
  ): SpanRecord[] {
    const producer = this.span(parent.service, `${type} publish`, SpanKinds.producer, parent, {
      attributes: { "messaging.destination.name": type },
    });
    return consumers.map((c) =>
      this.span(c.service, `${type} process`, SpanKinds.consumer, producer, {
        ...(c.error ? { error: true } : {}),
        attributes: { "messaging.destination.name": type, "messaging.consumer.group.name": c.group },
      }),
    );
  }

  /** A database transaction of `parent`'s service on `namespace`. */
  transaction(parent: SpanRecord, namespace: string): SpanRecord {
    return this.span(parent.service, "db transaction", SpanKinds.client, parent, {
      attributes: { "db.system.name": "sqlite", "db.namespace": namespace },
    });
  }
}
