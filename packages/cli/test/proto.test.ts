/** `flotilla proto` as a user runs it: writes the app's .proto, checks the committed one, refuses hand-edited numbers. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");

/** Runs the `flotilla` command from the repository's root; resolves with its exit code and everything it printed. */
function runCli(args: string[]): { closed: Promise<number | null>; output(): string } {
  const child = spawn(process.execPath, [join(root, "packages/cli/bin/flotilla.js"), ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: "warn" },
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return { closed: new Promise((r) => child.on("close", (code) => r(code))), output: () => out };
}
const committed = readFileSync(join(root, "examples/shop/proto/shop.proto"), "utf8");

describe("flotilla proto", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-proto-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the shop's committed file up to date, and writes the same file elsewhere", async () => {
    const check = runCli(["proto", "--check"]);
    expect(await check.closed).toBe(0);
    expect(check.output()).toContain("is up to date");
    const out = join(dir, "fresh.proto");
    const write = runCli(["proto", "--out", out]);
    expect(await write.closed).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(committed);
  });

  it("fails --check on a file behind the contracts, and refuses a file renumbered by hand", async () => {
    const stale = join(dir, "stale.proto");
    writeFileSync(stale, committed.replace(/^ {2}rpc GetProduct\(.*\n/m, ""));
    const check = runCli(["proto", "--check", "--out", stale]);
    expect(await check.closed).toBe(1);
    expect(check.output()).toContain("is not what the contracts give");
    const edited = join(dir, "edited.proto");
    writeFileSync(edited, committed.replace(/^(message GetProductRequest \{\n {2}string id = )1;/m, "$17;"));
    expect(readFileSync(edited, "utf8")).not.toBe(committed);
    const write = runCli(["proto", "--out", edited]);
    expect(await write.closed).toBe(1);
    expect(write.output()).toContain("edited by hand");
    expect(write.output()).toContain("[FLOTILLA_CONFIG]");
  });

  it("refuses --grpc-port without --gateway", async () => {
    const start = runCli(["start", "--grpc-port", "0"]);
    expect(await start.closed).toBe(2);
    expect(start.output()).toContain("--grpc-port needs --gateway");
  });
});
