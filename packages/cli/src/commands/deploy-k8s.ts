/** @module `flotilla deploy k8s`: Kubernetes manifests for an app's deployment units (docs/kubernetes.md). */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LAYOUTS, type Layout } from "@flotilla/app";
import { createEdgeKeysFile, loadEdgeKeys } from "@flotilla/auth";
import { k8sManifests } from "../k8s/manifests.js";
import type { K8sSettings, NatsPlacement } from "../k8s/objects.js";
import { writeManifestDir, yamlStream } from "../k8s/yaml-output.js";
import { loadApp } from "../load-app.js";
import { parseOptions, UsageError } from "../options.js";
import { DEPLOY_K8S_USAGE } from "../usage.js";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export async function deployK8s(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    layout: { type: "string" },
    out: { type: "string" },
    image: { type: "string" },
    namespace: { type: "string" },
    "nats-url": { type: "string" },
    nats: { type: "string" },
    "nats-monitoring": { type: "string" },
    "database-url-template": { type: "string" },
    "edge-keys": { type: "string" },
    "monitoring-namespace": { type: "string" },
    "keda-namespace": { type: "string" },
    upstream: { type: "string", multiple: true },
    registry: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(DEPLOY_K8S_USAGE);
    return;
  }
  const [target, ...rest] = positionals;
  if (target !== "k8s")
    throw new UsageError(target === undefined ? "no target given (k8s)" : `unknown target "${target}"`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const layout = (values.layout ?? "app") as Layout;
  if (!LAYOUTS.includes(layout)) throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}, got "${layout}"`);
  const image = values.image;
  if (image !== undefined && !/^\S+$/.test(image))
    throw new UsageError(`--image must be an image reference, got "${image}"`);
  const template = values["database-url-template"];
  if (template !== undefined) checkTemplate(template);
  const nats = natsPlacement(values.nats, values["nats-url"], values["nats-monitoring"]);
  const namespaces = {
    namespace: values.namespace,
    monitoringNamespace: values["monitoring-namespace"] ?? "monitoring",
    kedaNamespace: values["keda-namespace"] ?? "keda",
  };
  for (const [flag, name] of Object.entries(namespaces)) {
    if (name !== undefined && !DNS_LABEL.test(name)) {
      throw new UsageError(`--${kebab(flag)} must be a DNS label (a-z, 0-9, '-'), got "${name}"`);
    }
  }

  const upstreams = upstreamOptions(values.upstream ?? []);
  const edgeKeys = await edgeKeysFile(values["edge-keys"]);
  const app = await loadApp(values.app);
  const declared = Object.keys(app.gateway?.upstreams ?? {});
  for (const name of Object.keys(upstreams)) {
    if (!declared.includes(name)) {
      throw new UsageError(`${app.name} has no upstream "${name}" (its upstreams: ${declared.join(", ") || "none"})`);
    }
  }
  const settings: K8sSettings = {
    app: app.name,
    namespace: namespaces.namespace ?? dnsLabel(app.name),
    image: image ?? `${dnsLabel(app.name)}:latest`,
    layout,
    nats,
    registry: values.registry === true,
    ...(template === undefined ? {} : { databaseUrlTemplate: template }),
    monitoringNamespace: namespaces.monitoringNamespace,
    kedaNamespace: namespaces.kedaNamespace,
    upstreams,
  };
  const files = k8sManifests({ app, settings, edgeKeys });
  if (template === undefined) {
    process.stderr.write(
      "flotilla deploy k8s: no --database-url-template: services keep SQLite files in their pods, lost when a pod goes;" +
        " a unit with more than one instance needs PostgreSQL\n",
    );
  }
  const missing = declared.filter((name) => upstreams[name] === undefined);
  if (missing.length > 0) {
    process.stderr.write(
      `flotilla deploy k8s: no --upstream for ${missing.join(", ")}: the pods use the app's own targets, and the` +
        " NetworkPolicies allow no way out to them\n",
    );
  }
  if (values.out === undefined || values.out === "-") {
    process.stdout.write(yamlStream(files.flatMap((f) => f.objects)));
    return;
  }
  const dir = resolve(values.out);
  writeManifestDir(dir, files);
  console.log(`wrote ${dir}: ${files.map((f) => f.file).join(", ")} (they hold Secrets: keep them private)`);
}

/** `--nats statefulset` (the default) or `--nats-url nats://…`, never both. */
function natsPlacement(
  kind: string | undefined,
  url: string | undefined,
  monitoring: string | undefined,
): NatsPlacement {
  if (kind !== undefined && url !== undefined) throw new UsageError("--nats and --nats-url exclude each other");
  if (kind !== undefined && kind !== "statefulset") throw new UsageError(`--nats takes "statefulset", got "${kind}"`);
  if (url === undefined) {
    if (monitoring !== undefined) throw new UsageError("--nats-monitoring goes with --nats-url");
    return { kind: "statefulset" };
  }
  const server = URL.canParse(url) ? new URL(url) : undefined;
  if (server?.protocol !== "nats:" || server.hostname === "") {
    throw new UsageError(`--nats-url must be a nats://host:port URL, got "${url}"`);
  }
  if (server.username !== "" || server.password !== "") {
    throw new UsageError("--nats-url must not hold credentials: each unit gets its own user");
  }
  const endpoint = monitoring ?? `${server.hostname}:8222`;
  if (!/^[^\s:/]+:\d{1,5}$/.test(endpoint)) {
    throw new UsageError(`--nats-monitoring must be host:port, got "${endpoint}"`);
  }
  return { kind: "external", url: server.href, monitoring: endpoint };
}

/** `legacy=http://legacy.shop:8080` (repeatable) → `{ legacy: "http://legacy.shop:8080" }`. */
function upstreamOptions(values: readonly string[]): Record<string, string> {
  const upstreams: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf("=");
    const [name, url] = [value.slice(0, eq), value.slice(eq + 1)];
    const target = URL.canParse(url) ? new URL(url) : undefined;
    if (eq <= 0 || !(target?.protocol === "http:" || target?.protocol === "https:")) {
      throw new UsageError(`--upstream takes NAME=http(s)://host:port, got "${value}"`);
    }
    if (upstreams[name] !== undefined) throw new UsageError(`--upstream ${name} is given twice`);
    upstreams[name] = url;
  }
  return upstreams;
}

/** A database URL template names each service (one service, one database) and is a PostgreSQL URL. */
function checkTemplate(template: string): void {
  if (!template.includes("{service}")) {
    throw new UsageError("--database-url-template must contain {service}: every service has its own database");
  }
  const sample = template.replaceAll("{service}", "s").replaceAll("{password}", "p");
  const url = URL.canParse(sample) ? new URL(sample) : undefined;
  if (url === undefined || !["postgres:", "postgresql:"].includes(url.protocol) || url.hostname === "") {
    throw new UsageError(`--database-url-template must be a postgres:// URL, got "${template}"`);
  }
}

/** The given key file's contents (checked), else a fresh one: one Ed25519 signing key. */
async function edgeKeysFile(path: string | undefined): Promise<string> {
  if (path !== undefined) {
    if (!existsSync(resolve(path))) throw new UsageError(`--edge-keys ${path} does not exist`);
    const keys = await loadEdgeKeys(resolve(path));
    if (keys.signing === undefined) throw new UsageError(`--edge-keys ${path} holds no private key to sign with`);
    return readFileSync(resolve(path), "utf8");
  }
  const dir = mkdtempSync(join(tmpdir(), "flotilla-edge-keys-"));
  try {
    await createEdgeKeysFile(join(dir, "edge-keys.json"));
    return readFileSync(join(dir, "edge-keys.json"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dnsLabel(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63) || "flotilla"
  );
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
