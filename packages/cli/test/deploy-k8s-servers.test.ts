/**
 * `flotilla deploy k8s`'s manifests against real servers: the ConfigMap's nats-server configuration and
 * the Secret's authorization block pass `nats-server -t`; with those users and the Secrets' PostgreSQL
 * URLs (roles and databases made as docs/kubernetes.md says), every unit of the shop starts under its
 * own Secret's credentials, the consumers KEDA's triggers name are the ones the transport created, and
 * a unit's user cannot read another unit's consumer.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploymentUnits, type RunningApp, runApp } from "@flotilla/app";
import { createEdgeKeysFile } from "@flotilla/auth";
import {
  type NatsServerHandle,
  type PostgresHandle,
  resolveNatsServerBinary,
  startNatsServer,
  startPostgres,
} from "@flotilla/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopApp } from "../../../examples/shop/src/app.js";
import { k8sManifests } from "../src/k8s/manifests.js";
import type { K8sSettings } from "../src/k8s/objects.js";
import { yamlStream } from "../src/k8s/yaml-output.js";
import { type Manifest, parseStream } from "./deploy-k8s-validate.js";

const BASE: K8sSettings = {
  app: "shop",
  namespace: "shop",
  image: "shop:test",
  layout: "app",
  nats: { kind: "statefulset" },
  registry: false,
  monitoringNamespace: "monitoring",
  kedaNamespace: "keda",
};

describe("flotilla deploy k8s: NATS configuration and credentials on a real nats-server and PostgreSQL", () => {
  const units = deploymentUnits(shopApp);
  let dir: string;
  let docs: Manifest[];
  let server: NatsServerHandle;
  let postgres: PostgresHandle;
  const env = new Map<string, string | undefined>();
  const running: RunningApp[] = [];
  const connections: NatsConnection[] = [];

  const named = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
  /** A unit's transport URL from its Secret, pointed at the test's server instead of the cluster's. */
  const transportOf = (unit: string) => {
    const url = new URL(named("Secret", `${unit}-credentials`).stringData.FLOTILLA_TRANSPORT);
    url.host = `127.0.0.1:${server.port}`;
    return url;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-deploy-k8s-"));
    await createEdgeKeysFile(join(dir, "generated-keys.json"));
    const edgeKeys = readFileSync(join(dir, "generated-keys.json"), "utf8");
    postgres = await startPostgres();
    const databaseUrlTemplate = `postgres://flotilla_{service}:{password}@127.0.0.1:${postgres.port}/{service}`;
    const settings = { ...BASE, databaseUrlTemplate };
    docs = parseStream(yamlStream(k8sManifests({ app: shopApp, settings, edgeKeys }).flatMap((f) => f.objects)));
    // What the pods mount: the configuration from the ConfigMap, users from the Secret, edge keys from theirs.
    writeFileSync(join(dir, "nats.conf"), named("ConfigMap", "nats-config").data["nats.conf"]);
    writeFileSync(join(dir, "auth.conf"), named("Secret", "nats-auth").stringData["auth.conf"]);
    writeFileSync(join(dir, "edge-keys.json"), named("Secret", "edge-keys").stringData["edge-keys.json"]);
    // The test's server takes its own port and store; the users are the manifests'.
    server = await startNatsServer({ config: readFileSync(join(dir, "auth.conf"), "utf8") });
  });

  afterAll(async () => {
    for (const nc of connections) await nc.close();
    for (const app of running.reverse()) await app.stop();
    for (const [name, value] of env) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a configuration nats-server accepts, and nats-server rejects a broken one", () => {
    const binary = resolveNatsServerBinary();
    const check = spawnSync(binary, ["-c", join(dir, "nats.conf"), "-t"], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
    writeFileSync(join(dir, "auth.conf"), "authorization: { users: [ { user: a, permissions: { publish: 7 } } ] }\n");
    const broken = spawnSync(binary, ["-c", join(dir, "nats.conf"), "-t"], { encoding: "utf8" });
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain("permissions");
  });

  it("starts every unit under its own Secret's user, and the triggers' consumers are the transport's", async () => {
    // Each service's role and database, as the URLs of the Secrets name them; the pods' environment.
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      for (const unit of units) {
        for (const [name, value] of Object.entries(named("Secret", `${unit.name}-credentials`).stringData)) {
          if (!name.startsWith("FLOTILLA_DB_")) continue;
          const url = new URL(value as string);
          await admin.query(`CREATE ROLE ${url.username} LOGIN PASSWORD '${decodeURIComponent(url.password)}'`);
          await admin.query(`CREATE DATABASE ${url.pathname.slice(1)} OWNER ${url.username}`);
          env.set(name, process.env[name]);
          process.env[name] = value as string;
        }
      }
    } finally {
      await admin.end();
    }
    expect([...env.keys()].sort()).toEqual(
      shopApp.services
        .filter((s) => s.database !== undefined)
        .map((s) => `FLOTILLA_DB_${s.name.toUpperCase()}`)
        .sort(),
    );
    for (const unit of units) {
      running.push(
        await runApp(shopApp, {
          services: unit.services,
          transport: transportOf(unit.name).href,
          dataDir: join(dir, unit.name),
          edgeKeys: join(dir, "edge-keys.json"),
          tracing: false,
        }),
      );
    }
    for (const unit of units) {
      const url = transportOf(unit.name);
      const nc = await connect({
        servers: url.host,
        user: decodeURIComponent(url.username),
        pass: decodeURIComponent(url.password),
        inboxPrefix: url.searchParams.get("inboxPrefix")!,
      });
      connections.push(nc);
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const triggers = named("ScaledObject", unit.name).spec.triggers.slice(1);
      expect(triggers.length, unit.name).toBeGreaterThan(0);
      for (const { metadata } of triggers) {
        const info = await jsm.consumers.info(metadata.stream, metadata.consumer);
        expect(info.config.durable_name, `${unit.name} ${metadata.consumer}`).toBe(metadata.consumer);
      }
    }
    // Every unit did all it needed with the permissions the manifests gave it.
    expect(server.logs()).not.toContain("Permissions Violation");
    // And its services migrated and run in their own PostgreSQL databases, as their own roles.
    const orders = new pg.Client({ connectionString: process.env.FLOTILLA_DB_ORDERS });
    await orders.connect();
    try {
      const { rows } = await orders.query(
        "SELECT current_user AS role, current_database() AS db, count(*)::int AS tables FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(rows[0]).toMatchObject({ role: "flotilla_orders", db: "orders" });
      expect(rows[0].tables).toBeGreaterThan(0);
    } finally {
      await orders.end();
    }
  });

  it("denies a unit's user the consumers of another unit", async () => {
    const url = transportOf("orders");
    const nc = await connect({
      servers: url.host,
      user: "orders",
      pass: decodeURIComponent(url.password),
      inboxPrefix: url.searchParams.get("inboxPrefix")!,
    });
    connections.push(nc);
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2_000 });
    const other = named("ScaledObject", "notifications").spec.triggers[1].metadata;
    await expect(jsm.consumers.info(other.stream, other.consumer)).rejects.toThrow(/permission/i);
  });
});
