/**
 * `flotilla replay` on the distributed engines: the app's events on a real nats-server (JetStream), its
 * services' databases on a real PostgreSQL (FLOTILLA_DB_<SERVICE>, for the app and for the replay alike).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import { type NatsServerHandle, type PostgresHandle, startNatsServer, startPostgres } from "@flotilla/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killChildren } from "./fixtures/operator-cli.js";
import { projectionApp } from "./fixtures/projection-app.js";
import { crashAndFinish } from "./fixtures/replay-scenario.js";

describe("flotilla replay (NATS and PostgreSQL)", () => {
  let dataDir: string;
  let nats: NatsServerHandle | undefined;
  let postgres: PostgresHandle | undefined;
  let running: RunningApp | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-replay-pg-"));
  });
  afterEach(async () => {
    await killChildren();
    await running?.stop();
    running = undefined;
    await Promise.all([nats?.stop(), postgres?.stop()]);
    nats = postgres = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A database of its own per service (created on first use), as an operator would configure it. */
  function databaseEnv(server: PostgresHandle): Record<string, string> {
    const url = (service: string) => {
      const u = new URL(server.url);
      u.pathname = `/${service}`;
      return u.href;
    };
    return { FLOTILLA_DB_SOURCE: url("source"), FLOTILLA_DB_SINK: url("sink") };
  }

  /** runApp reads FLOTILLA_DB_* when it starts; they are this test's only while it does. */
  async function runWithEnv(env: Record<string, string>, transport: string): Promise<RunningApp> {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return await runApp(projectionApp, { transport, dataDir });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it("finishes a replay that was SIGKILLed mid-way when run again", { timeout: 90_000 }, async () => {
    [nats, postgres] = await Promise.all([
      startNatsServer({ startTimeoutMs: 10_000, stopGraceMs: 3_000 }),
      startPostgres(),
    ]);
    const env = databaseEnv(postgres);
    running = await runWithEnv(env, nats.url);
    await crashAndFinish(running.host, ["--transport", nats.url, "--data-dir", dataDir], env);
    // Both sides used PostgreSQL: no SQLite file was made for the service.
    expect(existsSync(join(dataDir, "sink.sqlite"))).toBe(false);
  });
});
