/**
 * @module The saga suite's tables and goal lines. Per-step figures are each saga's duration divided
 * by the commands it sent (4 for a saga that completed, 7 for one whose last step failed and whose
 * three earlier steps were compensated); the participants' work is trivial, so this is the cost of
 * the machinery between steps.
 */

import { ratio, table } from "../lib/report.js";
import { percentile } from "../nats/measure.js";
import { LABELS, type SagaImpl, type SagaRun } from "./cases.js";
import type { CheckoutRun, SagaSuiteResults } from "./suite.js";

const ms = (ns: number) => (Number.isFinite(ns) ? `${(ns / 1e6).toFixed(2)} ms` : "–");
const rate = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const sorted = (xs: readonly number[]) => Float64Array.from(xs.filter(Number.isFinite)).sort();
const perStep = (r: SagaRun) => sorted(r.durationsNs.map((d, i) => d / (r.commands[i] || Number.NaN)));
const cpu = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, us]) => `${k} ${Number.isFinite(us) ? us.toFixed(0) : "?"}`)
    .join(", ");

export function renderSagas(results: SagaSuiteResults): string {
  const parts: string[] = [];
  const find = (impl: SagaImpl, n: number) => results.sagas.find((s) => s.impl === impl && s.run.inFlight === n)?.run;
  if (results.sagas.length > 0) {
    const rows = results.sagas.map(({ impl, run }) => {
      const d = sorted(run.durationsNs);
      const s = perStep(run);
      return [
        LABELS[impl],
        String(run.inFlight),
        rate(run.perSec),
        ms(percentile(d, 0.5)),
        ms(percentile(d, 0.99)),
        ms(percentile(s, 0.5)),
        ms(percentile(s, 0.99)),
        ratio(run.perSec, find("flotilla-embedded", run.inFlight)?.perSec),
        ratio(run.perSec, find("flotilla-split", run.inFlight)?.perSec),
        String(run.errors),
      ];
    });
    parts.push(
      table(
        [
          "peer",
          "in flight",
          "sagas/s",
          "p50",
          "p99",
          "per step p50",
          "per step p99",
          "vs Fl. emb.",
          "vs Fl. split",
          "errors",
        ],
        rows,
      ),
      "",
      "CPU µs per saga, by process:",
      "",
      ...results.sagas.map(({ impl, run }) => `- ${LABELS[impl]}, ${run.inFlight} in flight: ${cpu(run.cpuPerSagaUs)}`),
    );
  }
  if (results.sweep.length > 0) {
    const rows = results.sweep.map((run) => {
      const d = sorted(run.durationsNs);
      return [
        String(run.inFlight),
        String(run.measured),
        rate(run.perSec),
        ms(percentile(d, 0.5)),
        ms(percentile(d, 0.99)),
        ms(percentile(perStep(run), 0.5)),
        `${(run.cpuUs / (run.intervalNs / 1e3)).toFixed(2)}`,
        `${((100 * run.mainRunNs) / run.intervalNs).toFixed(0)}% + ${((100 * run.mainWaitNs) / run.intervalNs).toFixed(0)}%`,
        `${(run.cpuUs / ((run.perSec * run.intervalNs) / 1e9)).toFixed(0)} µs`,
      ];
    });
    parts.push(
      "",
      "Flotilla embedded, sagas in flight swept (cores used: process CPU from `process.cpuUsage`, 1.00 = one core busy; main thread: share of the interval running, and runnable but waiting for a CPU, from /proc/self/schedstat):",
      "",
      table(
        [
          "in flight",
          "timed sagas",
          "sagas/s",
          "p50",
          "p99",
          "per step p50",
          "cores used",
          "main thread run + wait",
          "CPU/saga",
        ],
        rows,
      ),
    );
  }
  if (results.checkout.length > 0) {
    parts.push("", "The shop's checkout over HTTP (POST /api/v1/orders → 202 → terminal OrderStatusChanged):", "");
    parts.push(
      table(
        ["mode", "in flight", "checkouts/s", "202→terminal p50", "p99", "POST→terminal p50", "p99", "ended", "errors"],
        results.checkout.map(checkoutRow),
      ),
    );
    parts.push(
      "",
      ...results.checkout.map(
        (c) => `- ${c.mode}, ${c.inFlight} in flight: CPU µs per checkout ${cpu(c.cpuUsPerCheckout)}`,
      ),
    );
  }
  return parts.join("\n");
}

function checkoutRow(c: CheckoutRun): string[] {
  const a = sorted(c.afterAcceptedNs);
  const d = sorted(c.durationsNs);
  return [
    c.mode,
    String(c.inFlight),
    rate(c.perSec),
    ms(percentile(a, 0.5)),
    ms(percentile(a, 0.99)),
    ms(percentile(d, 0.5)),
    ms(percentile(d, 0.99)),
    Object.entries(c.statuses)
      .map(([k, n]) => `${k} ${n}`)
      .join(", "),
    String(c.errors),
  ];
}

/** The goals, each met or missed, from this run. */
export function sagaGoals(results: SagaSuiteResults): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
  for (const [impl, goalMs] of [
    ["flotilla-embedded", 1],
    ["flotilla-split", 5],
  ] as const) {
    const run = results.sagas.find((s) => s.impl === impl && s.run.inFlight === 1)?.run;
    if (run === undefined) continue;
    const p50 = percentile(perStep(run), 0.5) / 1e6;
    lines.push(
      `${LABELS[impl]}: per-step p50 ${p50.toFixed(2)} ms at 1 in flight (goal ≤ ${goalMs} ms) ${verdict(p50 <= goalMs)}`,
    );
  }
  for (const [mode, goalMs] of [
    ["embedded", 20],
    ["split", 60],
  ] as const) {
    const run = results.checkout.find((c) => c.mode === mode && c.inFlight === 1);
    if (run === undefined) continue;
    const p50 = percentile(sorted(run.afterAcceptedNs), 0.5) / 1e6;
    lines.push(
      `checkout ${mode}: 202 → terminal p50 ${p50.toFixed(2)} ms at 1 in flight (goal ≤ ${goalMs} ms) ${verdict(p50 <= goalMs)}`,
    );
  }
  if (results.sweep.length > 1) {
    const p99 = results.sweep.map(
      (r) => `${r.inFlight}: ${(percentile(sorted(r.durationsNs), 0.99) / 1e6).toFixed(1)} ms`,
    );
    const cores = results.sweep.map((r) => `${r.inFlight}: ${(r.cpuUs / (r.intervalNs / 1e3)).toFixed(2)}`);
    lines.push(`sweep p99 by in flight: ${p99.join(", ")}; cores used: ${cores.join(", ")}`);
  }
  return lines;
}
