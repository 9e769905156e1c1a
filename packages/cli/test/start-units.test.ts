/** `flotilla start`'s choice of what to run: `--unit`/`--layout`, `--services`, and `--gateway` over NATS, each refusal. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./split-helpers.js";

const bin = join(root, "packages/cli/bin/flotilla.js");
/** The transport is what each case says, never one from the environment. */
const { FLOTILLA_TRANSPORT: _, ...env } = process.env;

/** Runs `flotilla start …` to its end (none of these get as far as connecting): exit code and output. */
function start(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [bin, "start", ...args], {
    cwd: root,
    env: { ...env, FLOTILLA_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((r) => child.on("close", (code) => r({ code, output })));
}

const NATS = ["--transport", "nats://127.0.0.1:1"];

describe("flotilla start --unit and --services", () => {
  it("refuses each command line that does not say clearly what to run", { timeout: 90_000 }, async () => {
    const cases: [string[], number, string][] = [
      [["--unit", "edge", "--services", "catalog"], 2, "--unit and --services exclude each other"],
      [["--layout", "single"], 2, "--layout needs --unit"],
      [["--unit", "edge", "--layout", "mixed"], 2, '--layout must be one of app, single, per-service, got "mixed"'],
      [
        ["--gateway", ...NATS],
        2,
        "--gateway over a network transport needs to know which services run beside it: --services none " +
          "(a gateway alone), --services all, or --unit edge",
      ],
      [["--unit", "browse", "--gateway", ...NATS], 2, "unit browse does not serve the gateway (unit edge does)"],
      [
        ["--unit", "catalog", ...NATS],
        1,
        'shop has no unit "catalog" (its units: edge, browse, orders, fulfilment, notifications) [FLOTILLA_CONFIG]',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => start(...args)));
    for (const [i, [args, code, message]] of cases.entries()) {
      const result = results[i];
      expect(result?.output, args.join(" ")).toContain(message);
      expect(result?.code, args.join(" ")).toBe(code);
    }
    // Usage errors print the command's usage, which documents --unit and --layout.
    expect(results[0]?.output).toContain("--unit NAME");
  });
});
