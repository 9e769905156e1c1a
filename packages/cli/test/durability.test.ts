/**
 * SIGKILL at the points where an outbox and an inbox earn their keep, on both engines: the
 * in-process transport with its event journal over SQLite, and NATS JetStream over PostgreSQL. Each
 * run is a real process; after the crash a second run must find every recorded entry with exactly
 * one effect: 0 lost, 0 applied twice.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServerHandle, type PostgresHandle, startNatsServer, startPostgres } from "@flotilla/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { root } from "./split-helpers.js";

const worker = join(root, "packages/cli/test/fixtures/durability-worker.ts");

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the worker; `killAfter` entries recorded (plus a random moment up to 300 ms), SIGKILLs it. */
function run(env: Record<string, string>, killAfter?: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", worker], {
      cwd: root,
      env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let crash: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
      if (killAfter !== undefined && crash === undefined && stdout.includes(`recorded ${killAfter}\n`)) {
        crash = setTimeout(() => child.kill("SIGKILL"), Math.random() * 300);
      }
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const limit = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      clearTimeout(crash);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

interface Summary {
  /** Every entry had its effect and nothing was left to deliver (else the worker gave up after 20 s). */
  settled: boolean;
  entries: number;
  lost: string[];
  twice: string[];
  unknown: string[];
}

function summary(result: Run): Summary {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as Summary;
}

const crashPoints = ["after-commit", "after-publish", "in-handler"] as const;

describe.each(["embedded", "nats-pg"] as const)("durability under SIGKILL: %s", (engine) => {
  let pg: PostgresHandle | undefined;
  let nats: NatsServerHandle | undefined;
  let dataDir = "";
  let database = 0;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    if (engine === "nats-pg") pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-durability-"));
    if (engine === "embedded") {
      env = { ENGINE: engine, DATA_DIR: dataDir };
    } else {
      nats = await startNatsServer();
      // Fresh databases per test: `{service}` names each service's own, prefixed.
      const url = (pg as PostgresHandle).url.replace(/\/postgres$/, `/t${++database}_{service}`);
      env = { ENGINE: engine, NATS_URL: nats.url, PG_URL: url };
    }
  });
  afterEach(async () => {
    await nats?.stop();
    nats = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(crashPoints)(
    "SIGKILL %s: every committed entry ends with one effect",
    async (crashAt) => {
      const crashed = await run({ ...env, FROM: "0", TO: "40", CRASH_AT: crashAt, CRASH_ID: "e-00020" });
      expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
      // The crash may land while later entries are being recorded (handling and relaying are async).
      const result = summary(await run({ ...env, FROM: "100", TO: "110" }));
      expect(result.entries).toBeGreaterThanOrEqual(31);
      expect(result).toMatchObject({ settled: true, lost: [], twice: [], unknown: [] });
    },
    60_000,
  );

  it("SIGKILL at an arbitrary moment under load, twice: every committed entry ends with one effect", async () => {
    const first = await run({ ...env, FROM: "0", TO: "100000" }, 30);
    expect(first.signal, first.stderr).toBe("SIGKILL");
    const second = await run({ ...env, FROM: "200000", TO: "300000" }, 20);
    expect(second.signal, second.stderr).toBe("SIGKILL");
    const result = summary(await run({ ...env, FROM: "400000", TO: "400010" }));
    expect(result.entries).toBeGreaterThanOrEqual(60);
    expect(result).toMatchObject({ settled: true, lost: [], twice: [], unknown: [] });
  }, 90_000);
});
