/** `flotilla dev`'s refusals: each bad command line exits with a usage error or a stable code, and starts nothing. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtureApp, repositoryRoot } from "./fixture-copy.js";

const bin = join(repositoryRoot, "packages/cli/bin/flotilla.js");
const app = join(fixtureApp, "app.ts");

function flotilla(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repositoryRoot, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === "number" ? err.code : null, stdout, stderr });
    });
  });
}

describe("flotilla dev refuses", () => {
  it("a layout it does not know (exit 2, the layouts listed)", async () => {
    const run = await flotilla(["dev", "--app", app, "--layout", "pods"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--layout must be one of app, single, per-service, got "pods"');
  });

  it("the in-process transport: units are separate processes (exit 2)", async () => {
    const run = await flotilla(["dev", "--app", app, "--transport", "memory://"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--transport must be a nats:// URL");
  });

  it("a port that is not one (exit 2)", async () => {
    const run = await flotilla(["dev", "--app", app, "--port", "80800"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be a port number, got "80800"');
  });

  it("an app module that does not exist (exit 1, FLOTILLA_CONFIG)", async () => {
    const run = await flotilla(["dev", "--app", join(fixtureApp, "missing.ts")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/missing\.ts does not exist \[FLOTILLA_CONFIG\]/);
  });

  it("prints its usage with --help", async () => {
    const run = await flotilla(["dev", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("usage: flotilla dev [options]");
  });
});
