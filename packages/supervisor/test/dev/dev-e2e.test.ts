/**
 * `flotilla dev` end to end: the fixture app (front, tally, a gateway alone in `edge`) copied into a temp
 * dir and run by `flotilla dev` over a real nats-server, under a request loop through the gateway. An
 * edit to a file private to the front restarts the front's unit alone; an edit to the tally's contract
 * restarts the gateway's unit and the tally's; nothing is lost across either.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type Answer, http, loops, until, withTimeout } from "../../../cli/test/split-helpers.js";
import { FixtureCopies, repositoryRoot } from "./fixture-copy.js";

const bin = join(repositoryRoot, "packages/cli/bin/flotilla.js");
const copies = new FixtureCopies();
let nats: NatsServerHandle | undefined;
let devProcess: ChildProcess | undefined;

afterAll(async () => {
  // The dev process leads its own process group: its units die with it, even when the test failed midway.
  if (devProcess?.pid !== undefined && devProcess.exitCode === null) {
    try {
      process.kill(-devProcess.pid, "SIGKILL");
    } catch {}
  }
  await nats?.stop().catch(() => {});
  copies.remove();
});

/** `units: edge pid 1, front pid 2, tally pid 3` (the last such line printed) → { edge: 1, front: 2, tally: 3 }. */
function lastPids(output: string): Record<string, number> {
  const lines = output.split("\n").filter((l) => l.startsWith("units: "));
  const last = lines[lines.length - 1] ?? "";
  return Object.fromEntries([...last.matchAll(/([a-z][a-z0-9-]*) pid (\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("flotilla dev", () => {
  it("restarts only the units an edit concerns, serves the change, and loses no request or event", async () => {
    nats = await startNatsServer({ startTimeoutMs: 10_000, stopGraceMs: 3_000 });
    const dir = copies.make();
    let out = "";
    devProcess = spawn(
      process.execPath,
      [bin, "dev", "--port", "0", "--transport", nats.url, "--data-dir", join(dir, ".flotilla/data")],
      {
        cwd: dir,
        env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    const dev = devProcess;
    dev.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    dev.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => dev.once("exit", (code) => r(code)));
    await until(
      () => /watching \d+ directories/.test(out) || dev.exitCode !== null,
      60_000,
      "flotilla dev to run the units and watch the source",
      () => out,
    );
    expect(out, out).toMatch(/watching \d+ directories/);
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? "";
    const before = lastPids(out);
    expect(Object.keys(before).sort()).toEqual(["edge", "front", "tally"]);

    const answers: Answer[] = [];
    let stop = false;
    let reloadedAt = Number.POSITIVE_INFINITY;
    let afterEdit: Record<string, number> = {};
    let contractEditAt = Number.POSITIVE_INFINITY;
    const hit = () =>
      http(`${url}/api/hit`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const load = loops(2, async () => {
      if (stop) return false;
      answers.push(await hit());
      return true;
    });
    const greeting = (a: Answer) => (a.body as { greeting?: string } | undefined)?.greeting;
    try {
      await until(
        () => answers.length >= 20,
        20_000,
        "answers before the edit",
        () => out,
      );
      // As an editor saves: a temporary file renamed over the original.
      const file = join(dir, "front/greeting.ts");
      writeFileSync(`${file}.tmp`, 'export const GREETING = "v2";\n');
      renameSync(`${file}.tmp`, file);
      // The rolling restart is over once the new front is ready and the old one has drained.
      await until(
        () => /restarted front in [\d.]+ s\n/.test(out),
        90_000,
        "the front to be restarted",
        () => out,
      );
      reloadedAt = Date.now();
      await until(() => answers.filter((a) => a.startedAt > reloadedAt).length >= 20, 20_000, "answers after it");
      await until(
        () => lastPids(out).front !== before.front,
        10_000,
        "the new front pid",
        () => out,
      );
      afterEdit = lastPids(out);

      // A shared contract: the gateway's unit restarts too, behind the same public port.
      contractEditAt = Date.now();
      appendFileSync(join(dir, "contracts/tally.ts"), "// edited\n");
      await until(
        () => /restarted edge, tally in [\d.]+ s\n/.test(out),
        90_000,
        "edge and tally to restart",
        () => out,
      );
      const restartedAt = Date.now();
      await until(() => answers.filter((a) => a.startedAt > restartedAt).length >= 20, 20_000, "answers after it");
      await until(
        () => lastPids(out).edge !== afterEdit.edge,
        10_000,
        "the new edge pid",
        () => out,
      );
    } finally {
      stop = true;
      await withTimeout(load, 15_000, "the request loops to end");
    }

    const after = lastPids(out);
    const failed = answers.filter((a) => a.status !== 200);
    const during = (a: Answer) => (a.startedAt >= contractEditAt ? "the gateway's restart" : "the front's restart");
    expect(failed, failed.map((a) => `during ${during(a)}: ${JSON.stringify(a)}`).join("\n")).toEqual([]);
    // Both fronts answer while the restart rolls; after it, only the new one (the old one drained).
    const afterReload = answers.filter((a) => a.startedAt > reloadedAt);
    expect(afterReload.map(greeting)).toEqual(afterReload.map(() => "v2"));
    expect(afterEdit.edge).toBe(before.edge);
    expect(afterEdit.tally).toBe(before.tally);
    expect(afterEdit.front).not.toBe(before.front);
    expect(alive(before.front as number)).toBe(false);
    expect(out).toMatch(/front\/greeting\.ts changed: restarted front in [\d.]+ s\n/);
    // The tally's contract: the gateway's routes and the tally import it, the front does not.
    expect(after.edge).not.toBe(afterEdit.edge);
    expect(after.tally).not.toBe(afterEdit.tally);
    expect(after.front).toBe(afterEdit.front);
    expect(out).toMatch(/contracts\/tally\.ts changed: restarted edge, tally in [\d.]+ s\n/);

    // Every accepted hit emitted its event in its transaction: the tally counts each one once.
    const accepted = new Set(answers.map((a) => (a.body as { id: string }).id));
    let counted = -1;
    await until(
      async () => {
        counted = ((await http(`${url}/api/count`)).body as { hits?: number }).hits ?? -1;
        return counted >= accepted.size;
      },
      30_000,
      `the tally to count ${accepted.size} hits`,
      () => `counted ${counted}\n${out}`,
    );
    expect(counted).toBe(accepted.size);

    dev.kill("SIGTERM");
    expect(await withTimeout(exited, 30_000, "flotilla dev to stop")).toBe(0);
    for (const pid of Object.values(after)) expect(alive(pid), `unit pid ${pid}`).toBe(false);
  }, 180_000);
});
