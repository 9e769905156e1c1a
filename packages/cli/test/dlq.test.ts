/**
 * `flotilla dlq` as an operator runs it: a child process beside a running app (here run in the test's
 * own process with runApp), on the in-process transport's event journal and on a real nats-server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningApp, runApp } from "@flotilla/app";
import type { StoredDeadLetter } from "@flotilla/core";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flotillaDone, killChildren, PROJECTION_APP } from "./fixtures/operator-cli.js";
import { projectionApp, sink, source } from "./fixtures/projection-app.js";
import { until } from "./split-helpers.js";

const GROUP = "sink.check";

describe("flotilla dlq", () => {
  let dataDir: string;
  let running: RunningApp | undefined;
  let nats: NatsServerHandle | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-dlq-"));
  });
  afterEach(async () => {
    await killChildren();
    await running?.stop();
    running = undefined;
    await nats?.stop();
    nats = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Two poison events dead-letter, a good one is handled; resolves with the two letters' ids (oldest first). */
  async function twoLetters(app: RunningApp): Promise<[string, string]> {
    await app.host.call(source.check, { key: "bad-1", bad: true });
    await app.host.call(source.check, { key: "bad-2", bad: true });
    await app.host.call(source.check, { key: "good", bad: false });
    const store = app.host.transport.deadLetterStore;
    let letters: StoredDeadLetter[] = [];
    await until(
      async () => {
        letters = (await store?.list(GROUP)) ?? [];
        return letters.length === 2 && (await app.host.call(sink.checked, {})).keys.includes("good");
      },
      10_000,
      "two dead letters and the good event handled",
    );
    expect(letters.map((l) => (l.event.data as { key: string }).key)).toEqual(["bad-1", "bad-2"]);
    return [letters[0]?.id as string, letters[1]?.id as string];
  }

  /** list (text and JSON), show, retry once healed, drop, and the errors, through `args`. */
  async function operate(app: RunningApp, args: string[], [first, second]: [string, string]): Promise<void> {
    // Reads are independent: run at once.
    const [table, listed, other] = await Promise.all([
      flotillaDone(["dlq", "list", ...args]),
      flotillaDone(["dlq", "list", "--group", GROUP, "--json", ...args]),
      flotillaDone(["dlq", "list", "--group", "sink.tally.ticked", ...args]),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+GROUP\s+EVENT TYPE\s+EVENT ID\s+ATTEMPTS\s+ERROR\s+FAILED AT$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${first}\\s+sink\\.check\\s+source\\.Checked\\s+\\S+\\s+1\\s+POISON_INPUT\\s+\\d{4}-`),
    );
    expect(lines[2]).toMatch(new RegExp(`^${second}\\s+sink\\.check\\s+source\\.Checked\\s`));
    expect(lines.at(-1)).toBe("2 dead letters");

    expect(listed.code, listed.stderr).toBe(0);
    const letters = JSON.parse(listed.stdout) as StoredDeadLetter[];
    expect(letters.map((l) => [l.id, l.group, l.event.type, l.attempts])).toEqual([
      [first, GROUP, "source.Checked", 1],
      [second, GROUP, "source.Checked", 1],
    ]);
    expect(letters[0]?.error).toMatchObject({ code: "POISON_INPUT", message: "key bad-1 is poison" });
    expect(other.stdout.trim()).toBe("no dead letters in sink.tally.ticked");

    const [shown, shownJson] = await Promise.all([
      flotillaDone(["dlq", "show", first, ...args]),
      flotillaDone(["dlq", "show", first, "--json", ...args]),
    ]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`dead letter ${first}`);
    expect(shown.stdout).toMatch(/code:\s+POISON_INPUT/);
    expect(shown.stdout).toMatch(/message:\s+key bad-1 is poison/);
    expect(shown.stdout).toMatch(/details:\s+\{\s+"key": "bad-1"\s+\}/);
    expect(shown.stdout).toMatch(/type:\s+source\.Checked/);
    expect(shown.stdout).toMatch(/data:\s+\{\s+"key": "bad-1",\s+"bad": true\s+\}/);
    expect(JSON.parse(shownJson.stdout)).toMatchObject({ id: first, group: GROUP, event: { data: { key: "bad-1" } } });

    // Fixed (the key is healed), the retried event is handled by the running app, and the letter is gone.
    await app.host.call(sink.heal, { key: "bad-1" });
    const retried = await flotillaDone(["dlq", "retry", first, ...args]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(
      new RegExp(`^retried dead letter ${first}: event source\\.Checked \\S+ delivered again to sink\\.check\\n$`),
    );
    await until(
      async () => (await app.host.call(sink.checked, {})).keys.includes("bad-1"),
      5_000,
      "the retried event to be handled",
    );
    expect((await app.host.call(sink.checked, {})).keys).toEqual(["bad-1", "good"]);

    const dropped = await flotillaDone(["dlq", "drop", second, ...args]);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toMatch(
      new RegExp(`^dropped dead letter ${second}: event source\\.Checked \\S+ of sink\\.check\\n$`),
    );
    const commands = ["show", "retry", "drop"];
    const [empty, emptyText, ...missings] = await Promise.all([
      flotillaDone(["dlq", "list", "--json", ...args]),
      flotillaDone(["dlq", "list", ...args]),
      ...commands.map((command) => flotillaDone(["dlq", command, second, ...args])),
    ]);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    expect(emptyText.stdout.trim()).toBe("no dead letters");
    for (const [i, missing] of missings.entries()) {
      expect(missing.code, `dlq ${commands[i]} of a dropped letter`).toBe(1);
      expect(missing.stderr).toMatch(new RegExp(`^flotilla: no dead letter ${second}\\b.*\\[NOT_FOUND\\]\\n$`));
    }
    // The dropped event was never handled; nothing else arrived.
    expect((await app.host.call(sink.checked, {})).keys).toEqual(["bad-1", "good"]);
  }

  it("lists, shows, retries and drops the dead letters of an app on the in-process transport", {
    timeout: 60_000,
  }, async () => {
    running = await runApp(projectionApp, { transport: "memory://?faithful=1", dataDir });
    const ids = await twoLetters(running);
    await operate(running, ["--data-dir", dataDir, "--app", PROJECTION_APP], ids);

    const [usage, typo, nowhere] = await Promise.all([
      flotillaDone(["dlq", "show"]),
      flotillaDone(["dlq", "list", "--group", "sink.chek", "--app", PROJECTION_APP, "--data-dir", dataDir]),
      flotillaDone(["dlq", "list", "--data-dir", join(dataDir, "nope")]),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("dlq show needs the letter's ID");
    expect(usage.stderr).toContain("usage: flotilla dlq list");
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain(
      'projection-test has no consumer group "sink.chek" (it has: sink.check, sink.tally.ticked)',
    );
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/no event journal at .*nope.*\[NOT_FOUND\]/);
  });

  it("lists, shows, retries and drops the dead letters of an app on NATS", { timeout: 60_000 }, async () => {
    nats = await startNatsServer({ startTimeoutMs: 10_000, stopGraceMs: 3_000 });
    running = await runApp(projectionApp, { transport: nats.url, dataDir });
    const ids = await twoLetters(running);
    await operate(running, ["--transport", nats.url], ids);
  });
});
