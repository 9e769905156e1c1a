/** An event's path from its spans: emit, wait, handler and transaction per delivery; percentiles of a stage. */
import { attributes as attr, SpanKinds, type SpanRecord, SpanStatuses } from "@flotilla/telemetry";
import { describe, expect, it } from "vitest";
import { eventPaths, stageTimes } from "../src/dashboard/event-flow-stages.js";

function span(
  fields: Partial<SpanRecord> & Pick<SpanRecord, "spanId" | "name" | "kind" | "startMs" | "durationMs">,
): SpanRecord {
  return {
    traceId: "t".repeat(32),
    status: SpanStatuses.unset,
    service: "x",
    attributes: {},
    sampled: true,
    ...fields,
  };
}

const emit = span({
  spanId: "p1",
  name: "identity.UserRegistered publish",
  kind: SpanKinds.producer,
  startMs: 1_000,
  durationMs: 2,
  service: "identity",
  attributes: { [attr.MESSAGING_MESSAGE_ID]: "e1", [attr.MESSAGING_DESTINATION]: "identity.UserRegistered" },
});
const handling = (spanId: string, startMs: number, attempt: number, failed: boolean) =>
  span({
    spanId,
    parentSpanId: "p1",
    name: "identity.UserRegistered process",
    kind: SpanKinds.consumer,
    startMs,
    durationMs: 10,
    service: "notifications",
    status: failed ? SpanStatuses.error : SpanStatuses.ok,
    attributes: {
      [attr.MESSAGING_MESSAGE_ID]: "e1",
      [attr.MESSAGING_DESTINATION]: "identity.UserRegistered",
      [attr.MESSAGING_CONSUMER_GROUP]: "notifications.userRegistered",
      [attr.FLOTILLA_DELIVERY_ATTEMPT]: attempt,
    },
  });

describe("event paths from spans", () => {
  it("times each delivery from the emit's end, with its transaction, oldest first", () => {
    const spans = [
      handling("c2", 1_150, 2, false),
      span({
        spanId: "d2",
        parentSpanId: "c2",
        name: "db transaction",
        kind: SpanKinds.client,
        startMs: 1_151,
        durationMs: 7,
      }),
      emit,
      handling("c1", 1_012, 1, true),
    ];
    const path = eventPaths(spans).get("e1");
    expect(path).toEqual({
      id: "e1",
      type: "identity.UserRegistered",
      traceId: "t".repeat(32),
      emit: { service: "identity", startMs: 1_000, durationMs: 2 },
      deliveries: [
        {
          group: "notifications.userRegistered",
          service: "notifications",
          attempt: 1,
          startMs: 1_012,
          waitMs: 10,
          handlerMs: 10,
          transactionMs: undefined,
          ok: false,
        },
        {
          group: "notifications.userRegistered",
          service: "notifications",
          attempt: 2,
          startMs: 1_150,
          waitMs: 148,
          handlerMs: 10,
          transactionMs: 7,
          ok: true,
        },
      ],
    });
  });

  it("keeps a delivery whose emit span is not kept, without a wait", () => {
    const path = eventPaths([handling("c1", 5, 1, false)]).get("e1");
    expect(path?.emit).toBeUndefined();
    expect(path?.deliveries[0]?.waitMs).toBeUndefined();
  });

  it("answers the median and 95th percentile by nearest rank", () => {
    expect(stageTimes([])).toBeUndefined();
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(stageTimes(values)).toEqual({ count: 100, p50Ms: 50, p95Ms: 95 });
    expect(stageTimes([3])).toEqual({ count: 1, p50Ms: 3, p95Ms: 3 });
  });
});
