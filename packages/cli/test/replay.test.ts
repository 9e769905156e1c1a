/**
 * `flotilla replay` on the embedded engines (SQLite files and the in-process transport's event journal):
 * a child process rebuilding a projection of an app that keeps running and emitting (in the test's
 * own process, with runApp), including a replay SIGKILLed mid-way and finished by the next one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flotillaDone, killChildren, PROJECTION_APP } from "./fixtures/operator-cli.js";
import { projectionApp } from "./fixtures/projection-app.js";
import { crashAndFinish, Emitter, replayArgs, summaryOf } from "./fixtures/replay-scenario.js";

describe("flotilla replay (SQLite and the event journal)", () => {
  let dataDir: string;
  let running: RunningApp | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-replay-"));
  });
  afterEach(async () => {
    await killChildren();
    await running?.stop();
    running = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("rebuilds a projection while live events keep arriving: none lost, none applied twice", {
    timeout: 60_000,
  }, async () => {
    running = await runApp(projectionApp, { transport: "memory://?faithful=1", dataDir });
    const emitter = new Emitter(running.host);
    await emitter.seed(2_000);
    emitter.start();
    let run: Awaited<ReturnType<typeof flotillaDone>>;
    const before = emitter.total;
    try {
      run = await flotillaDone(replayArgs(["--data-dir", dataDir]), {}, 30_000);
    } finally {
      await emitter.stop();
    }
    expect(run.code, run.stderr).toBe(0);
    console.info(
      `replay of 2,000+ events beside live traffic: ${run.stdout.trim()}; slowest emit meanwhile ${Math.round(emitter.slowestMs)} ms`,
    );
    const summary = summaryOf(run);
    expect(summary.read).toBeGreaterThanOrEqual(2_000);
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    // Not a terminal: progress lines on stderr (the first at once), the summary alone on stdout.
    expect(run.stderr).toContain(`rebuilding sink.tally from ${join(dataDir, "flotilla.events.sqlite")}`);
    expect(run.stderr).toMatch(/^sink\.tally: [\d,]+\/[\d,]+ events read \(\d+%\), [\d,]+ applied, [\d,]+ events\/s$/m);
    // The app kept serving: events were emitted during the replay, and every call succeeded.
    expect(emitter.total).toBeGreaterThan(before);
    await emitter.expectExact();
  });

  it("finishes a replay that was SIGKILLed mid-way when run again", { timeout: 60_000 }, async () => {
    running = await runApp(projectionApp, { transport: "memory://?faithful=1", dataDir });
    await crashAndFinish(running.host, ["--data-dir", dataDir]);
  });

  it("names what exists when asked for a service or projection the app lacks", async () => {
    const noService = await flotillaDone(["replay", "nope.tally", "--app", PROJECTION_APP, "--data-dir", dataDir]);
    expect(noService.code).toBe(1);
    expect(noService.stderr).toBe(
      'flotilla: projection-test has no service "nope" (its projections: sink.tally) [NOT_FOUND]\n',
    );
    const noProjection = await flotillaDone(["replay", "sink.nope", "--app", PROJECTION_APP, "--data-dir", dataDir]);
    expect(noProjection.code).toBe(1);
    expect(noProjection.stderr).toBe('flotilla: sink has no projection "nope" (it has: tally) [NOT_FOUND]\n');
    const notRunYet = await flotillaDone(["replay", "sink.tally", "--app", PROJECTION_APP, "--data-dir", dataDir]);
    expect(notRunYet.code).toBe(1);
    expect(notRunYet.stderr).toMatch(/no database for sink at .*sink\.sqlite.*\[NOT_FOUND\]/);
    const usage = await flotillaDone(["replay", "sink", "--batch", "0"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"sink" is not SERVICE.PROJECTION');
    expect(usage.stderr).toContain("usage: flotilla replay SERVICE.PROJECTION");
  });
});
