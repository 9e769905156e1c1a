/** `flotilla deploy k8s` as a user runs it: a directory of files or one stream, and usage errors for bad options. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEdgeKeysFile, publicEdgeKeys } from "@flotilla/auth";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deployK8s } from "../src/commands/deploy-k8s.js";
import { UsageError } from "../src/options.js";
import { parseStream, validateManifest } from "./deploy-k8s-validate.js";
import { root } from "./split-helpers.js";

const bin = join(root, "packages/cli/bin/flotilla.js");
const APP = join(root, "examples/shop/src/app.ts");

describe("flotilla deploy k8s", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-deploy-k8s-cli-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, "deploy", ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });

  it("writes a file per unit into --out DIR, owner-only, every document valid", () => {
    const out = join(dir, "manifests");
    const done = run("k8s", "--app", APP, "--out", out, "--image", "shop:1.2.3");
    expect(done.status, done.stderr).toBe(0);
    const files = ["00-namespace.yaml", "01-nats.yaml", "02-shared.yaml", "browse.yaml", "edge.yaml"];
    files.push("fulfilment.yaml", "notifications.yaml", "orders.yaml");
    expect(readdirSync(out).sort()).toEqual(files);
    expect(done.stdout).toContain(`wrote ${out}: 00-namespace.yaml, 01-nats.yaml, 02-shared.yaml, edge.yaml`);
    // Without a database template the services keep SQLite files in their pods: said, not hidden.
    expect(done.stderr).toContain("no --database-url-template");
    expect(done.stderr).toContain("no --upstream for legacy");
    for (const file of files) {
      expect(statSync(join(out, file)).mode & 0o777, file).toBe(0o600);
      for (const doc of parseStream(readFileSync(join(out, file), "utf8"))) validateManifest(doc);
    }
    const edge = parseStream(readFileSync(join(out, "edge.yaml"), "utf8"));
    expect(edge.map((d) => `${d.kind} ${d.metadata.name}`)).toEqual([
      "Secret edge-credentials",
      "Deployment edge",
      "Service edge",
      "ScaledObject edge",
      "NetworkPolicy edge",
    ]);
    expect(edge[1]!.spec.template.spec.containers[0].image).toBe("shop:1.2.3");
  }, 90_000);

  it("prints one stream with an external NATS server, shipping the edge keys given", async () => {
    await createEdgeKeysFile(join(dir, "edge.json"));
    const done = run(
      "k8s",
      "--app",
      APP,
      "--namespace",
      "shop-prod",
      "--nats-url",
      "nats://nats.infra:4222",
      "--edge-keys",
      join(dir, "edge.json"),
      "--database-url-template",
      "postgres://flotilla_{service}:{password}@db/{service}",
      "--upstream",
      "legacy=http://legacy.shop-legacy:8081",
    );
    expect(done.stderr).toBe("");
    expect(done.status, done.stderr).toBe(0);
    const docs = parseStream(done.stdout);
    for (const doc of docs) validateManifest(doc);
    expect(docs.map((d) => d.kind)).not.toContain("StatefulSet");
    expect(docs.every((d) => d.kind === "Namespace" || d.metadata.namespace === "shop-prod")).toBe(true);
    const shipped = docs.find((d) => d.metadata.name === "edge-keys")!.stringData["edge-keys.json"];
    expect(shipped).toBe(readFileSync(join(dir, "edge.json"), "utf8"));
  }, 90_000);

  it("refuses bad options with a usage error before reading the app or writing anything", async () => {
    await createEdgeKeysFile(join(dir, "private.json"));
    writeFileSync(join(dir, "public.json"), JSON.stringify(await publicEdgeKeys(join(dir, "private.json"))));
    const cases: [string[], string][] = [
      [[], "no target given (k8s)"],
      [["helm"], 'unknown target "helm"'],
      [["k8s", "extra"], 'unexpected argument "extra"'],
      [["k8s", "--layout", "pods"], '--layout must be one of app, single, per-service, got "pods"'],
      [["k8s", "--nats", "statefulset", "--nats-url", "nats://n:4222"], "--nats and --nats-url exclude each other"],
      [["k8s", "--nats", "operator"], '--nats takes "statefulset", got "operator"'],
      [["k8s", "--nats-url", "http://n:4222"], '--nats-url must be a nats://host:port URL, got "http://n:4222"'],
      [["k8s", "--nats-url", "nats://u:p@n:4222"], "--nats-url must not hold credentials"],
      [["k8s", "--nats-monitoring", "n:8222"], "--nats-monitoring goes with --nats-url"],
      [["k8s", "--nats-url", "nats://n", "--nats-monitoring", "n"], '--nats-monitoring must be host:port, got "n"'],
      [["k8s", "--database-url-template", "postgres://db/shop"], "--database-url-template must contain {service}"],
      [["k8s", "--database-url-template", "mysql://db/{service}"], "--database-url-template must be a postgres:// URL"],
      [["k8s", "--namespace", "Shop_Prod"], "--namespace must be a DNS label (a-z, 0-9, '-'), got \"Shop_Prod\""],
      [
        ["k8s", "--monitoring-namespace", "Mon"],
        "--monitoring-namespace must be a DNS label (a-z, 0-9, '-'), got \"Mon\"",
      ],
      [["k8s", "--image", "shop latest"], '--image must be an image reference, got "shop latest"'],
      [["k8s", "--edge-keys", join(dir, "none.json")], `--edge-keys ${join(dir, "none.json")} does not exist`],
      [["k8s", "--edge-keys", join(dir, "public.json")], "holds no private key to sign with"],
      [["k8s", "--replicas", "3"], "Unknown option '--replicas'"],
      [["k8s", "--upstream", "legacy"], '--upstream takes NAME=http(s)://host:port, got "legacy"'],
      [["k8s", "--upstream", "legacy=ftp://l"], '--upstream takes NAME=http(s)://host:port, got "legacy=ftp://l"'],
      [["k8s", "--upstream", "a=http://a", "--upstream", "a=http://b"], "--upstream a is given twice"],
    ];
    for (const [args, message] of cases) {
      // A module that is not there: any case that got as far as loading the app would fail differently.
      const refused = deployK8s([...args, "--app", join(dir, "no-app.ts"), "--out", join(dir, "out")]);
      await expect(refused, args.join(" ")).rejects.toThrow(UsageError);
      await expect(refused, args.join(" ")).rejects.toThrow(message);
    }
    expect(readdirSync(dir).sort()).toEqual(["private.json", "public.json"]);
    // Checked against the app once it is loaded: an upstream it does not declare.
    await expect(deployK8s(["k8s", "--app", APP, "--upstream", "billing=http://billing:80"])).rejects.toThrow(
      'shop has no upstream "billing" (its upstreams: legacy)',
    );
  }, 60_000);

  it("exits 2 and prints the command's usage on a usage error", () => {
    const refused = run("k8s", "--layout", "pods");
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('flotilla deploy: --layout must be one of app, single, per-service, got "pods"');
    expect(refused.stderr).toContain("usage: flotilla deploy k8s [options]");
  }, 60_000);
});
