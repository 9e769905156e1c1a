/** A saga's journal as the dashboard's timeline: sends placed at their decision (a retry's after its delay), in flight last. */
import { describe, expect, it } from "vitest";
import { sagaTimeline } from "../src/dashboard/sagas-timeline.js";

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
const entry = (ms: number, name: string, step: string | null, attempt: number | null, detail: unknown = null) => ({
  at: at(ms),
  entry: name,
  step,
  attempt,
  detail,
});

describe("sagaTimeline", () => {
  it("places a retried step's second send after its delay, and labels the retry with it", () => {
    const timeline = sagaTimeline({
      status: "completed",
      step: "charge",
      attempt: 2,
      history: [
        entry(0, "started", null, null, { version: 1 }),
        entry(20, "step-succeeded", "reserve", 1),
        entry(50, "step-failed", "charge", 1, { code: "PROVIDER_UNAVAILABLE", message: "try later" }),
        entry(50, "retry-scheduled", "charge", 2, { delayMs: 120 }),
        entry(200, "step-succeeded", "charge", 2),
        entry(200, "completed", null, null),
      ],
    });
    expect(timeline.map((e) => [e.kind, e.step, e.attempt, e.at, e.sinceMs])).toEqual([
      ["started", null, null, at(0), 0],
      ["sent", "reserve", 1, at(0), 0],
      ["succeeded", "reserve", 1, at(20), 20],
      ["sent", "charge", 1, at(20), 0],
      ["failed", "charge", 1, at(50), 30],
      ["retry", "charge", 2, at(50), 0],
      ["sent", "charge", 2, at(170), 120],
      ["succeeded", "charge", 2, at(200), 30],
      ["completed", null, null, at(200), 0],
    ]);
    expect(timeline[4]?.label).toBe("Step charge failed: PROVIDER_UNAVAILABLE (try later)");
    expect(timeline[5]?.label).toBe("Retry of charge scheduled (attempt 2) in 120 ms");
  });

  it("ends a saga in flight with the command awaiting its outcome, a compensation's retries labelled as such", () => {
    const timeline = sagaTimeline({
      status: "compensating",
      step: "reserve",
      attempt: 2,
      history: [
        entry(0, "started", null, null),
        entry(10, "step-succeeded", "reserve", 1),
        entry(30, "step-failed", "charge", 1, { code: "CARD_DECLINED", message: "declined" }),
        entry(30, "compensating", "charge", null, { code: "CARD_DECLINED", message: "declined" }),
        entry(40, "compensation-failed", "reserve", 1, { code: "UNAVAILABLE", message: "down" }),
        entry(40, "retry-scheduled", "reserve", 2, { delayMs: 100 }),
      ],
    });
    const last = timeline.at(-1);
    expect(last).toMatchObject({ kind: "sent", phase: "compensate", step: "reserve", attempt: 2, awaiting: true });
    expect(last?.at).toBe(at(140));
    expect(last?.label).toBe("Compensation of reserve sent, attempt 2, awaiting its outcome");
    const retry = timeline.find((e) => e.kind === "retry");
    expect(retry).toMatchObject({ phase: "compensate", delayMs: 100 });
    expect(retry?.label).toBe("Retry of the compensation of reserve scheduled (attempt 2) in 100 ms");
  });
});
