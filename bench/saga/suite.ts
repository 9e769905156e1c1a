/**
 * @module The durable-saga benchmark: the four-step saga with compensation on Flotilla (embedded and
 * split), DBOS and Restate at the same loads; Flotilla embedded swept from 10 to 10,000 sagas in
 * flight; and the shop's checkout over HTTP, embedded and split. The run starts PostgreSQL, a
 * nats-server and restate-server, and stops them (and every child) even when a case fails.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startPostgres } from "@flotilla/testing";
import { Child } from "../nats/child.js";
import { startBenchServer } from "../nats/server.js";
import { runSagaCase, type SagaImpl, type SagaRun, type Servers } from "./cases.js";
import { counts } from "./load.js";
import { type RestateServer, startRestate } from "./restate-server.js";

export const CHECKOUT_MODES = ["embedded", "split"] as const;
export type CheckoutMode = (typeof CHECKOUT_MODES)[number];

export interface SagaSuiteOptions {
  readonly impls: readonly SagaImpl[];
  readonly inFlight: readonly number[];
  readonly sweep: readonly number[];
  readonly checkout: readonly CheckoutMode[];
  readonly checkoutInFlight: readonly number[];
  /** Timed sagas (or checkouts) per case at least; more where twice the window is more. */
  readonly count: number;
  /** Timed checkouts per level at least (the warm-up is 50, or the window). */
  readonly checkoutCount: number;
  readonly repeat: number;
}

export interface CheckoutRun {
  readonly mode: CheckoutMode;
  readonly inFlight: number;
  readonly perSec: number;
  readonly durationsNs: number[];
  readonly afterAcceptedNs: number[];
  readonly statuses: Record<string, number>;
  readonly cpuUsPerCheckout: Record<string, number>;
  readonly errors: number;
  readonly firstError: string | undefined;
}

export interface SagaSuiteResults {
  readonly servers: Record<string, string>;
  readonly sagas: Array<{ impl: SagaImpl; run: SagaRun }>;
  readonly sweep: SagaRun[];
  readonly checkout: CheckoutRun[];
  readonly loadavg: string[];
}

export async function runSagaSuite(o: SagaSuiteOptions, log: (line: string) => void): Promise<SagaSuiteResults> {
  const loadavg: string[] = [];
  const noteLoad = () =>
    loadavg.push(`${new Date().toISOString().slice(11, 19)} ${readFileSync("/proc/loadavg", "utf8").trim()}`);
  noteLoad();
  const postgres = await startPostgres({ settings: { max_connections: "300" } });
  let nats: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  let restate: RestateServer | undefined;
  try {
    nats = await startBenchServer();
    if (o.impls.includes("restate")) restate = await startRestate();
    const servers: Servers = {
      pg: postgres.url.replace(/\/postgres$/, ""),
      pgPid: postgres.pid,
      nats: nats.url,
      natsPid: nats.handle.pid,
      restate,
    };
    const described = {
      postgres: `PostgreSQL (startPostgres: fsync, synchronous_commit off) at ${servers.pg}`,
      nats: nats.version,
      ...(restate ? { restate: restate.version } : {}),
    };
    const sagas: SagaSuiteResults["sagas"] = [];
    for (let round = 0; round < o.repeat; round++) {
      for (const inFlight of o.inFlight) {
        for (const impl of o.impls) {
          log(`saga: ${impl}, ${inFlight} in flight (round ${round + 1}/${o.repeat})`);
          const run = await runSagaCase(impl, { inFlight, ...counts(inFlight, o.count) }, servers);
          await nats.reset();
          const best = sagas.find((s) => s.impl === impl && s.run.inFlight === inFlight);
          if (best === undefined) sagas.push({ impl, run });
          else if (run.perSec > best.run.perSec) best.run = run;
        }
      }
    }
    noteLoad();
    const sweep: SagaRun[] = [];
    for (const inFlight of o.sweep) {
      log(`sweep: flotilla-embedded, ${inFlight} in flight`);
      sweep.push(await runSagaCase("flotilla-embedded", { inFlight, ...counts(inFlight, o.count) }, servers));
    }
    noteLoad();
    const checkout: CheckoutRun[] = [];
    for (const mode of o.checkout) {
      log(`checkout: ${mode}, in flight ${o.checkoutInFlight.join(", ")}`);
      checkout.push(...(await runCheckout(mode, o, servers)));
      await nats.reset();
    }
    noteLoad();
    return { servers: described, sagas, sweep, checkout, loadavg };
  } finally {
    await restate?.stop().catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    await postgres.stop();
  }
}

async function runCheckout(mode: CheckoutMode, o: SagaSuiteOptions, servers: Servers): Promise<CheckoutRun[]> {
  const worker = new Child(`checkout-${mode}`, fileURLToPath(new URL("./checkout-worker.ts", import.meta.url)), [
    ...["--mode", mode, "--pg", servers.pg],
  ]);
  try {
    await worker.expect("ready", 180_000);
    const runs: CheckoutRun[] = [];
    for (const inFlight of o.checkoutInFlight) {
      const measured = Math.max(o.checkoutCount, 2 * inFlight);
      worker.send({ run: { inFlight, warm: Math.max(50, inFlight), measured } });
      const result = (await worker.expect("result", 900_000)).result as Omit<CheckoutRun, "mode">;
      runs.push({ ...result, mode, inFlight });
    }
    return runs;
  } finally {
    await worker.stop(60_000);
  }
}
