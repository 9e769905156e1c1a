/**
 * @module The strangler fig's steps for the shop's reviews, each watched under real traffic: backfill,
 * shadow reads, 10% → 50% → 100% of reads to the service, writes moved, the legacy retired. Each step
 * ends with a report; the first one with differences or lost requests stops the walk (docs/strangler.md).
 */
import type { ComparisonReport, ShopAdmin, SplitRules, SyncStatus } from "./shop-admin.js";
import type { Tally, TrafficDriver } from "./traffic-driver.js";

/** The shop's split of review reads (examples/shop/src/legacy.ts). */
export const READS = "reviews";

/** What one step did and saw. */
export interface StepReport {
  step: string;
  title: string;
  /** The reads split's rules, and where the reviews service puts writes. */
  rules: { reads: SplitRules; writesTo: "legacy" | "service" };
  reads: TallySummary;
  writes: TallySummary;
  /** The gateway's comparison report of the reads split (steps that shadow). */
  comparison?: ComparisonReport;
  sync: SyncStatus;
  /** Why the step failed; empty when it passed. */
  problems: string[];
}

export interface TallySummary {
  sent: number;
  servedBy: Record<string, number>;
  lost: number;
}

export interface StranglerOptions {
  admin: ShopAdmin;
  driver: TrafficDriver;
  /** Reads and writes sent in each step. */
  reads: number;
  writes: number;
  /** Stops the legacy monolith, when this script started it (the last step). */
  stopLegacy?: () => Promise<void>;
  /** Told each step's report as it ends. */
  onStep: (report: StepReport) => void;
}

const legacyOnly: SplitRules = { weights: { legacy: 100, service: 0 }, sticky: "none" };
const serviceOnly: SplitRules = { weights: { legacy: 0, service: 100 }, sticky: "none" };
const share = (service: number, shadow: string): SplitRules => ({
  weights: { legacy: 100 - service, service },
  sticky: "none",
  shadow: { variant: shadow, percent: 100 },
});

/** Walks every step; answers their reports, up to and including the first that failed. */
export async function strangleReviews(o: StranglerOptions): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  const step = async (report: StepReport) => {
    reports.push(report);
    o.onStep(report);
    return report.problems.length === 0;
  };
  const backfill = await o.admin.syncNow();
  const backfilled = await step({
    step: "backfill",
    title: "the service copies every legacy review, then follows new ones while the legacy takes the writes",
    rules: { reads: legacyOnly, writesTo: backfill.writesTo },
    reads: summary(o.driver.take()),
    writes: summary(o.driver.take()),
    sync: backfill,
    problems: [...syncProblems(backfill), ...(backfill.writesTo === "legacy" ? [] : ["writes already moved"])],
  });
  if (!backfilled) return reports;
  await o.admin.setRules(READS, legacyOnly);

  const compared: Array<[string, string, SplitRules]> = [
    [
      "shadow",
      "reads served by the legacy, each also sent to the service and compared (0% served)",
      share(0, "service"),
    ],
    ["shift-10", "10% of reads served by the service; the legacy's share still shadowed", share(10, "service")],
    ["shift-50", "50% of reads served by the service; the legacy's share still shadowed", share(50, "service")],
    ["shift-100", "every read served by the service; the legacy shadowed in its place", share(100, "legacy")],
  ];
  for (const [name, title, rules] of compared) {
    if (!(await step(await comparedStep(o, name, title, rules)))) {
      await o.admin.setRules(READS, legacyOnly);
      return reports;
    }
  }
  if (!(await step(await moveWrites(o)))) return reports;
  await step(await retire(o));
  return reports;
}

/** Rules set, report reset, writes (to the legacy) copied, reads sent, shadows awaited, report read. */
async function comparedStep(o: StranglerOptions, name: string, title: string, rules: SplitRules): Promise<StepReport> {
  await o.admin.setRules(READS, rules);
  await o.admin.resetReport(READS);
  await o.driver.writes(o.writes, name);
  const writes = o.driver.take();
  // Reads compare what both sides hold: the step's writes are copied first, so only real differences show.
  const sync = await o.admin.syncNow();
  await o.driver.reads(o.reads);
  const reads = o.driver.take();
  const shadowed = reads.sent - (reads.servedBy[rules.shadow?.variant ?? ""] ?? 0) - reads.lost.length;
  const comparison = await settledReport(o.admin, shadowed);
  const problems = [...syncProblems(sync), ...lostProblems(reads, writes)];
  if (comparison.compared === 0) problems.push("no read was compared");
  if (comparison.different > 0) problems.push(`${comparison.different} answers differ between legacy and service`);
  if (comparison.shadowFailed > 0) problems.push(`${comparison.shadowFailed} shadow calls failed`);
  // A dropped shadow call is a read not compared (the gateway bounds shadow calls), not a difference:
  // the report shows it, and the step passes as long as some were compared.
  if (sync.ownReviews > 0)
    problems.push(`${sync.ownReviews} reviews stored by the service while writes stay with the legacy`);
  return {
    step: name,
    title,
    rules: { reads: rules, writesTo: "legacy" },
    reads: summary(reads),
    writes: summary(writes),
    comparison,
    sync,
    problems,
  };
}

/**
 * Writes move to the service only now that it serves every read: the service copies the legacy's last
 * writes, then stores new ones itself, and its sync stops. Shadowing stops too: the legacy no longer
 * sees the new reviews, so comparing would only show that.
 */
async function moveWrites(o: StranglerOptions): Promise<StepReport> {
  const moved = await o.admin.setWrites("service");
  await o.admin.setRules(READS, serviceOnly);
  await o.driver.writes(o.writes, "moved");
  const writes = o.driver.take();
  await o.driver.reads(o.reads);
  const reads = o.driver.take();
  const sync = await o.admin.syncStatus();
  const problems = [...syncProblems(sync), ...lostProblems(reads, writes), ...servedOnlyBy("service", reads)];
  if (sync.writesTo !== "service") problems.push("writes did not move");
  if (sync.legacyLastId !== moved.legacyLastId) problems.push("the legacy took writes after they moved");
  if (sync.ownReviews - moved.ownReviews !== writes.created.length) {
    problems.push(
      `${writes.created.length} reviews written, ${sync.ownReviews - moved.ownReviews} stored by the service`,
    );
  }
  const missing = await o.driver.missingReviews(writes);
  if (missing.length > 0) problems.push(`reviews written but not listed: ${missing.join(", ")}`);
  return {
    step: "move-writes",
    title: "writes go to the service; the last legacy writes copied, then the sync stopped",
    rules: { reads: serviceOnly, writesTo: "service" },
    reads: summary(reads),
    writes: summary(writes),
    sync,
    problems,
  };
}

/** The legacy variant gets nothing, and the monolith stops (when this script runs it): the service serves alone. */
async function retire(o: StranglerOptions): Promise<StepReport> {
  await o.stopLegacy?.();
  await o.driver.writes(o.writes, "retired");
  const writes = o.driver.take();
  await o.driver.reads(o.reads);
  const reads = o.driver.take();
  const problems = [...lostProblems(reads, writes), ...servedOnlyBy("service", reads)];
  const missing = await o.driver.missingReviews(writes);
  if (missing.length > 0) problems.push(`reviews written but not listed: ${missing.join(", ")}`);
  return {
    step: "retire",
    title: o.stopLegacy
      ? "the legacy monolith stopped: reads and writes served by the service alone"
      : "the legacy variant gets no traffic: reads and writes served by the service alone",
    rules: { reads: serviceOnly, writesTo: "service" },
    reads: summary(reads),
    writes: summary(writes),
    sync: await o.admin.syncStatus(),
    problems,
  };
}

/** The report once every shadow call of the step has been compared, failed or dropped (at most 10 s). */
async function settledReport(admin: ShopAdmin, shadowed: number): Promise<ComparisonReport> {
  const until = Date.now() + 10_000;
  for (;;) {
    const report = await admin.report(READS);
    const settled = report.compared + report.shadowFailed + report.dropped;
    if (settled >= shadowed || Date.now() > until) return report;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function syncProblems(sync: SyncStatus): string[] {
  const problems: string[] = [];
  if (sync.lastError !== null) problems.push(`reviews sync failing: ${sync.lastError}`);
  if (sync.conflicts > 0) problems.push(`${sync.conflicts} legacy reviews conflicted with the service's own`);
  if (sync.enabled && sync.behind > 0) problems.push(`reviews sync ${sync.behind} reviews behind`);
  return problems;
}

function lostProblems(reads: Tally, writes: Tally): string[] {
  const lost = [...reads.lost, ...writes.lost];
  if (lost.length === 0) return [];
  const first = lost.slice(0, 3).map((l) => `${l.method} ${l.path} → ${l.status}`);
  return [`${lost.length} requests lost (${first.join("; ")})`];
}

function servedOnlyBy(variant: string, ...tallies: Tally[]): string[] {
  const others = tallies.flatMap((t) => Object.entries(t.servedBy).filter(([v, n]) => v !== variant && n > 0));
  return others.map(([v, n]) => `${n} requests served by ${v}, not ${variant}`);
}

function summary(tally: Tally): TallySummary {
  return { sent: tally.sent, servedBy: tally.servedBy, lost: tally.lost.length };
}
