/** @module The scaling load test's options: load phases (`name:SECONDSs@RPS`), sync period, window, bounds. */
import { parseArgs } from "node:util";
import type { UnitScaling } from "@flotilla/app";

/** One stretch of steady load: `rps` requests a second, opened on schedule whatever the answers take. */
export interface Phase {
  readonly name: string;
  readonly ms: number;
  readonly rps: number;
}

export interface ScalingOptions {
  readonly phases: readonly Phase[];
  /** The autoscaler's sync period (an HPA's is 15 s). */
  readonly syncMs: number;
  /** The scale-down stabilization window (an HPA's is 300 s). */
  readonly windowMs: number;
  /** The unit whose instances must go 1 → N → 1. */
  readonly unit: string;
  /** p99 bound while scaling. */
  readonly p99BoundMs: number;
  /** One request in this many is a checkout (the rest browse the catalog). */
  readonly checkoutEvery: number;
  /** Requests open at once at most; past it, the client counts the request as not sent (overload). */
  readonly maxOpen: number;
  /** Overrides of the watched unit's scaling targets (the app's own otherwise). */
  readonly scaling: UnitScaling;
  /** The simulated card provider's latency per call (SHOP_PAYMENT_LATENCY_MS), so that payments hold calls open. */
  readonly paymentLatencyMs: number;
}

/** The default run: HPA's own timing, ~9 minutes in all (the 300 s window makes the fall phase long). */
const DEFAULT_PHASES = "warm:20s@10,rise:30s@25,peak:90s@40,fall:360s@5";
/** `--short`: a smoke run of ~2 minutes with a 2 s sync period and a 20 s window. */
const SHORT_PHASES = "warm:5s@10,peak:40s@40,fall:50s@5";

const USAGE = `npx tsx bench/scaling/run.ts [--short] [--phases LIST] [--sync-ms N] [--window-ms N]
  [--unit NAME] [--p99-bound-ms N] [--checkout-every N] [--max-open N]

  --phases LIST      name:SECONDSs@RPS,… (default ${DEFAULT_PHASES})
  --sync-ms N        autoscaler sync period (default 15000, as an HPA; --short: 2000)
  --window-ms N      scale-down stabilization window (default 300000, as an HPA; --short: 20000)
  --unit NAME        the unit checked to go 1 → N → 1 (default fulfilment: payments, inventory, shipping)
  --p99-bound-ms N   p99 bound while scaling (default 2000)
  --checkout-every N one request in N is a checkout (default 4)
  --payment-latency-ms N
                     the simulated card provider's latency per call (default 1000)
  --max-open N       requests open at once at most (default 512)
  --in-flight N, --cpu-percent N, --lag N, --max N
                     the watched unit's scaling targets instead of the app's (inFlightPerInstance,
                     cpuPercent, lagPerInstance, max)`;

export function scalingOptions(argv: string[]): ScalingOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      short: { type: "boolean", default: false },
      phases: { type: "string" },
      "sync-ms": { type: "string" },
      "window-ms": { type: "string" },
      unit: { type: "string", default: "fulfilment" },
      "p99-bound-ms": { type: "string", default: "2000" },
      "checkout-every": { type: "string", default: "4" },
      "payment-latency-ms": { type: "string", default: "1000" },
      "max-open": { type: "string", default: "512" },
      "in-flight": { type: "string" },
      "cpu-percent": { type: "string" },
      lag: { type: "string" },
      max: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const short = values.short === true;
  return {
    phases: parsePhases(values.phases ?? (short ? SHORT_PHASES : DEFAULT_PHASES)),
    syncMs: positive(values["sync-ms"] ?? (short ? "2000" : "15000"), "--sync-ms"),
    windowMs: positive(values["window-ms"] ?? (short ? "20000" : "300000"), "--window-ms"),
    unit: values.unit,
    p99BoundMs: positive(values["p99-bound-ms"], "--p99-bound-ms"),
    checkoutEvery: positive(values["checkout-every"], "--checkout-every"),
    maxOpen: positive(values["max-open"], "--max-open"),
    paymentLatencyMs: atLeastZero(values["payment-latency-ms"], "--payment-latency-ms"),
    scaling: {
      ...(values["in-flight"] === undefined
        ? {}
        : { inFlightPerInstance: positive(values["in-flight"], "--in-flight") }),
      ...(values["cpu-percent"] === undefined ? {} : { cpuPercent: positive(values["cpu-percent"], "--cpu-percent") }),
      ...(values.lag === undefined ? {} : { lagPerInstance: positive(values.lag, "--lag") }),
      ...(values.max === undefined ? {} : { max: positive(values.max, "--max") }),
    },
  };
}

/** `warm:20s@20,peak:90s@300` → phases; a malformed item is refused with what was expected. */
export function parsePhases(list: string): Phase[] {
  const phases = list.split(",").map((item) => {
    const match = /^([a-z][\w-]*):(\d+(?:\.\d+)?)s@(\d+(?:\.\d+)?)$/.exec(item.trim());
    if (match === null) throw new Error(`phase "${item}" is not name:SECONDSs@RPS (e.g. peak:90s@300)`);
    return { name: match[1] as string, ms: Number(match[2]) * 1000, rps: Number(match[3]) };
  });
  if (phases.length === 0) throw new Error("--phases needs at least one phase");
  return phases;
}

function atLeastZero(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`${flag} must be a whole number of 0 or more, got "${value}"`);
  return n;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new Error(`${flag} must be a number above 0, got "${value}"`);
  return n;
}
