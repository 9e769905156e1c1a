/**
 * The supervisor on a small fixture app (test/fixtures/crashing-app.ts) with real processes and a real
 * nats-server: crash-loop detection, the autoscale loop, the SQLite refusal, the control API (token, status, scale, restart,
 * metrics, events), and no orphans when the supervisor itself is SIGKILLed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FlotillaApp } from "@flotilla/app";
import { createLogger, FlotillaError } from "@flotilla/core";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../../cli/test/split-helpers.js";
import { callSupervisor, createSupervisor, type InstanceEvent, type SupervisorStatus } from "../src/index.js";
import { alive, cliBin, flotilla, startUp } from "./helpers.js";

const appPath = join(import.meta.dirname, "fixtures/crashing-app.ts");
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-sup-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => (err instanceof FlotillaError ? err.code : String(err)),
  );
}

describe("supervisor", () => {
  it("marks a unit that exits at start crash-loop, keeps the others, scales on the autoscaler's decision, answers its control API", {
    timeout: 120_000,
  }, async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as an unprivileged user who must enter it
    const app = ((await import(appPath)) as { default: FlotillaApp }).default;
    // The autoscale loop with an injected autoscaler: in-flight 42 on one instance → 2, once allowed.
    let allowScale = false;
    const read: string[] = [];
    const supervisor = createSupervisor({
      app,
      appPath,
      cliBin,
      dataDir,
      gatewayPort: 0,
      syncPeriodMs: 200,
      signals: {
        read: async (unit, pids) => {
          read.push(unit.name);
          return { readyInstances: pids.length, inFlight: 42 };
        },
        close: async () => {},
      },
      autoscaler: (unit) => ({
        recommend: (current, signals) =>
          allowScale && current < 2
            ? {
                unit: unit.name,
                from: current,
                to: 2,
                signal: "inFlight",
                reason: `in-flight ${signals.inFlight} over ${signals.readyInstances} instances > 8 each → 2`,
                at: Date.now(),
              }
            : undefined,
      }),
      healing: { backoffMs: 50, maxBackoffMs: 200, crashLoopExits: 3, crashLoopWindowMs: 60_000 },
      log: createLogger({ level: "silent" }),
    });
    const events: InstanceEvent[] = [];
    supervisor.on("instance", (e) => events.push(e));
    try {
      await supervisor.start();
      await until(
        () => events.some((e) => e.change === "crash-loop"),
        60_000,
        "crasher to crash-loop",
        () => JSON.stringify(events, null, 1),
      );
      const status = supervisor.status();
      const unit = (name: string) => status.units.find((u) => u.name === name);
      expect(unit("crasher")?.health).toBe("crash-loop");
      expect(unit("crasher")?.restarts).toBeGreaterThanOrEqual(2);
      expect(unit("steady")).toMatchObject({ health: "ok", desired: 1, restarts: 0 });
      expect(unit("steady")?.instances.map((i) => i.state)).toEqual(["ready"]);
      const failed = events.filter((e) => e.unit === "crasher" && e.change === "failed-to-start");
      expect(failed.length).toBeGreaterThanOrEqual(3);
      expect(failed[0]?.reason).toContain("exited (code 3) unasked");
      expect(failed[0]?.reason).toContain("failing at start on purpose");
      const crasherLog = readFileSync(join(dataDir, "units/crasher/crasher-1.log"), "utf8");
      expect(crasherLog).toContain("failing at start on purpose");

      // Refusals, with stable codes, from the API and over the control server.
      expect(await codeOf(supervisor.scale("steady", 3))).toBe("FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE");
      expect(await codeOf(supervisor.scale("nope", 1))).toBe("FLOTILLA_SUPERVISOR_UNKNOWN_UNIT");
      const overControl = callSupervisor(dataDir, "POST", "/units/steady/scale", { instances: 0 });
      expect(await codeOf(overControl)).toBe("FLOTILLA_SUPERVISOR_SCALE_OUT_OF_RANGE");
      expect(status.database).toContain("PostgreSQL");

      // The control file is private; requests without its token are refused.
      expect(statSync(join(dataDir, "supervisor.json")).mode & 0o777).toBe(0o600);
      const url = (status.controlUrl ?? "") + "/status";
      const anonymous = await fetch(url);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
        "FLOTILLA_SUPERVISOR_UNAUTHORIZED",
      );
      const remote = (await callSupervisor(dataDir, "GET", "/status")) as SupervisorStatus;
      expect(remote.units.map((u) => u.name)).toEqual(["steady", "crasher"]);

      // Events stream while a rolling restart replaces steady's instance.
      const control = readFileSync(join(dataDir, "supervisor.json"), "utf8");
      const { token, url: controlUrl } = JSON.parse(control) as { token: string; url: string };
      const stream = await fetch(`${controlUrl}/events`, { headers: { authorization: `Bearer ${token}` } });
      const reader = stream.body?.getReader();
      let seen = "";
      const reading = (async () => {
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) return;
          seen += new TextDecoder().decode(chunk.value);
        }
      })();
      const before = unit("steady")?.instances[0]?.pid;
      await callSupervisor(dataDir, "POST", "/units/steady/restart");
      const after = supervisor.status().units.find((u) => u.name === "steady")?.instances ?? [];
      expect(after.map((i) => i.state)).toEqual(["ready"]);
      expect(after[0]?.pid).not.toBe(before);
      expect(alive(before ?? -1)).toBe(false);
      await until(
        () => /"unit":"steady".*"change":"stopped"/.test(seen),
        5_000,
        "the stop event on /events",
        () => seen,
      );
      expect(seen).toMatch(/event: instance\ndata: \{"unit":"steady","instance":"steady-2",[^\n]*"change":"ready"/);
      await reader?.cancel();
      await reading.catch(() => {});

      // The autoscale loop reads every unit's signals and applies the autoscaler's decision.
      expect(read).toContain("crasher");
      allowScale = true;
      await until(
        () =>
          supervisor
            .status()
            .units.find((u) => u.name === "steady")
            ?.instances.filter((i) => i.state === "ready").length === 2,
        60_000,
        "steady to scale to 2",
      );
      expect(supervisor.status().decisions).toMatchObject([{ unit: "steady", from: 1, to: 2, signal: "inFlight" }]);
      expect(supervisor.status().units[0]?.signals).toEqual({ readyInstances: expect.any(Number), inFlight: 42 });

      const metrics = String(
        await (await fetch(`${controlUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text(),
      );
      expect(metrics).toContain('flotilla_supervisor_crash_loops_total{unit="crasher"} 1');
      expect(metrics).toMatch(/flotilla_supervisor_restarts_total\{unit="crasher",reason="crash"\} [2-9]/);
      expect(metrics).toContain('flotilla_supervisor_restarts_total{unit="steady",reason="rolling"} 1');
      expect(metrics).toContain('flotilla_supervisor_instances{unit="steady",state="ready"} 2');
      expect(metrics).toContain('flotilla_supervisor_desired_instances{unit="steady"} 2');
      expect(metrics).toContain(
        'flotilla_supervisor_scale_decisions_total{unit="steady",signal="inFlight",direction="up"} 1',
      );
    } finally {
      await supervisor.stop();
    }
    expect(await codeOf(callSupervisor(dataDir, "GET", "/status"))).toBe("FLOTILLA_SUPERVISOR_NOT_RUNNING");
    const ps = await flotilla(["ps", "--data-dir", dataDir]);
    expect(ps.code).toBe(1);
    expect(ps.out).toContain("[FLOTILLA_SUPERVISOR_NOT_RUNNING]");
  });

  it("without PostgreSQL, refuses a second instance on SQLite; leaves no process behind after a failed start or when SIGKILLed", {
    timeout: 120_000,
  }, async () => {
    const dataDir = tempDir();
    const noPostgres = { FLOTILLA_PG_BIN: join(dataDir, "no-postgres-here") };
    // A bad --instances fails the start, and what had started (nats-server) is stopped again.
    const args = ["up", "--plain", "--app", appPath, "--data-dir", dataDir, "--port", "0"];
    const failed = await flotilla([...args, "--instances", "nope=1"], { ...noPostgres, FLOTILLA_LOG_LEVEL: "info" });
    expect(failed.code).toBe(1);
    expect(failed.out).toContain("[FLOTILLA_SUPERVISOR_UNKNOWN_UNIT]");
    const stopped = Number(/"url":"nats:[^"]*","serverPid":(\d+)/.exec(failed.out)?.[1]);
    expect(stopped).toBeGreaterThan(0);
    expect(alive(stopped)).toBe(false);

    const up = await startUp(
      ["--app", appPath, "--data-dir", dataDir, "--port", "0", "--no-autoscale", "--instances", "steady=1,crasher=1"],
      noPostgres,
    );
    expect(up.output()).toContain("units steady run one instance each on SQLite files");
    const refused = await flotilla(["scale", "steady=2", "--data-dir", dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("[FLOTILLA_SUPERVISOR_NEEDS_POSTGRES]");
    const status = (await callSupervisor(dataDir, "GET", "/status")) as SupervisorStatus;
    const steady = status.units.find((u) => u.name === "steady")?.instances[0]?.pid ?? -1;
    const nats = Number(/"url":"nats:[^"]*","serverPid":(\d+)/.exec(up.output())?.[1]);
    expect([steady, nats].map(alive)).toEqual([true, true]);
    up.child.kill("SIGKILL");
    await up.closed;
    // Each child's watchdog sees its pipe from the supervisor close: SIGTERM, then SIGKILL 5 s later.
    await until(() => ![steady, nats].some(alive), 20_000, "the supervisor's children to be gone");
  });
});
