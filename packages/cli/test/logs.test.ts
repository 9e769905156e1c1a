/** `flotilla start`'s log lines as a process writes them to a pipe: JSON, levels per service from the environment. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "@flotilla/testing";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const bin = join(root, "packages/cli/bin/flotilla.js");
const dataDir = mkdtempSync(join(tmpdir(), "flotilla-logs-"));

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, "start", "--data-dir", dataDir, ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn", FLOTILLA_LOG_FORMAT: "", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const lines = () =>
    stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, closed, lines, stdout: () => stdout, stderr: () => stderr };
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("flotilla start's logs", () => {
  it("writes JSON lines to a pipe, each service at its own level", { timeout: 90_000 }, async () => {
    const port = await freePort();
    const cli = start(["--gateway", "--port", String(port)], {
      FLOTILLA_LOG_LEVELS: "catalog=info,inventory=error",
      FLOTILLA_LOG_LEVEL_GATEWAY: "info",
    });
    try {
      await waitFor(() => cli.stdout().includes("listening on"), { timeoutMs: 60_000, what: "the gateway" });
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const res = await fetch(`http://localhost:${port}/api/v1/products`, {
        headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, "x-correlation-id": "logs-1" },
      });
      expect(res.status).toBe(200);
      await waitFor(() => cli.lines().some((l) => l.msg === "request"), { timeoutMs: 10_000, what: "the access line" });
      const lines = cli.lines();
      expect(lines.find((l) => l.msg === "request")).toMatchObject({
        service: "gateway",
        trace_id: traceId,
        correlation_id: "logs-1",
        status: 200,
      });
      // The start hook's line: info shown for catalog, hidden for inventory; the process's warn for the rest.
      expect(lines.find((l) => l.msg === "seeded the demo catalog")).toMatchObject({
        service: "catalog",
        instance: expect.stringMatching(/^catalog-/),
        trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        correlation_id: expect.stringMatching(/^catalog-.*\.lifecycle$/),
      });
      expect(lines.filter((l) => l.level === 30).map((l) => l.service)).not.toContain("inventory");
      expect(lines.find((l) => l.msg === "host started")).toBeUndefined();
    } finally {
      cli.child.kill("SIGTERM");
      await cli.closed;
    }
  });

  it("refuses to start with a level that is not one", { timeout: 60_000 }, async () => {
    const cli = start(["--services", "catalog"], { FLOTILLA_LOG_LEVEL_CATALOG: "loud" });
    expect(await cli.closed).toBe(1);
    expect(cli.stderr()).toContain('FLOTILLA_LOG_LEVEL_CATALOG is "loud", not a log level');
    expect(cli.stderr()).toContain("[FLOTILLA_CONFIG]");
  });
});
