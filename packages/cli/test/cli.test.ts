/** The `flotilla` command as a user runs it: a child process, its output and its HTTP ports. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitFor } from "@flotilla/testing";
import { afterEach, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const bin = join(root, "packages/cli/bin/flotilla.js");

export interface Cli {
  child: ChildProcess;
  output(): string;
  closed: Promise<number | null>;
}

export function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn", ...env },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, output: () => out, closed };
}

describe("flotilla CLI", () => {
  const running: Cli[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const cli of running.splice(0)) {
      cli.child.kill("SIGTERM");
      await cli.closed;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("prints usage and refuses unknown commands", async () => {
    const help = runCli(["--help"]);
    expect(await help.closed).toBe(0);
    expect(help.output()).toContain("usage: flotilla start");
    const bad = runCli(["launch"]);
    expect(await bad.closed).toBe(2);
  });

  // Four CLI processes, each starting Node and tsx: seconds apiece on a busy two-core machine.
  it("creates, rotates and publishes the edge keys", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-edge-keys-"));
    dirs.push(dir);
    const file = join(dir, "edge-keys.json");
    const create = runCli(["edge-keys", "create", "--file", file]);
    expect(await create.closed).toBe(0);
    const first = /signing key (\S+)/.exec(create.output())?.[1];
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = runCli(["edge-keys", "create", "--file", file]);
    expect(await again.closed).toBe(2);
    const rotate = runCli(["edge-keys", "rotate", "--file", file]);
    expect(await rotate.closed).toBe(0);
    expect(rotate.output()).toContain(`still verifying ${first}`);
    const pub = runCli(["edge-keys", "public"], { FLOTILLA_EDGE_KEYS: file });
    expect(await pub.closed).toBe(0);
    const { keys } = JSON.parse(pub.output()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(2);
    expect(keys[1]?.kid).toBe(first);
    for (const key of keys) expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
  });

  it("names the services an app has when asked for one it lacks", async () => {
    const cli = runCli(["start", "--services", "catalog,nope"]);
    expect(await cli.closed).toBe(1);
    expect(cli.output()).toMatch(
      /shop has no service "nope" \(it has: catalog, orders, identity, inventory, payments, shipping, notifications, recommendations, reviews\) \[FLOTILLA_CONFIG\]/,
    );
  });

  it("explains an app module or transport it cannot use", { timeout: 90_000 }, async () => {
    const missing = runCli(["start", "--app", "no/such/app.ts"]);
    expect(await missing.closed).toBe(1);
    expect(missing.output()).toMatch(/app module .*no\/such\/app\.ts does not exist \[FLOTILLA_CONFIG\]/);
    const notAnApp = runCli(["start", "--app", "packages/cli/src/options.ts"]);
    expect(await notAnApp.closed).toBe(1);
    expect(notAnApp.output()).toMatch(/must export an app \(defineApp\)/);
    const badTransport = runCli(["start", "--services", "none", "--transport", "kafka://x:1"]);
    expect(await badTransport.closed).toBe(1);
    expect(badTransport.output()).toMatch(/no transport for scheme "kafka" .*\[FLOTILLA_CONFIG\]/);
  });

  it("runs the app found through package.json, with its gateway and ops port, and stops on SIGTERM", async () => {
    const [port, opsPort] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-cli-"));
    dirs.push(dataDir);
    const cli = runCli([
      "start",
      "--gateway",
      "--port",
      String(port),
      "--ops-port",
      String(opsPort),
      "--data-dir",
      dataDir,
    ]);
    running.push(cli);
    await waitFor(() => cli.output().includes("listening on"), { timeoutMs: 30_000, what: "the gateway" });
    expect(cli.output()).toContain(
      "running catalog, orders, identity, inventory, payments, shipping, notifications, recommendations, reviews over memory",
    );
    const products = (await (await fetch(`http://localhost:${port}/api/v1/products`)).json()) as { items: unknown[] };
    expect(products.items.length).toBeGreaterThan(0);
    expect((await fetch(`http://localhost:${opsPort}/livez`)).status).toBe(200);
    expect((await fetch(`http://localhost:${opsPort}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://localhost:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /flotilla_action_duration_seconds_count\{service="catalog",action="listProducts",status="OK"\} 1/,
    );
    running.pop();
    cli.child.kill("SIGTERM");
    await cli.closed;
    expect(cli.output()).toContain("Flotilla shop stopped");
  });
});
