/**
 * `flotilla deploy k8s`'s manifests of the shop, checked offline: every document validates against the
 * Kubernetes (kubernetes-models) or KEDA (@kubernetes-models/keda) schema of its kind, and says what
 * the app declares — its units, probes, scaling bounds and triggers, network paths and credentials.
 */
import { deploymentUnits, type FlotillaApp } from "@flotilla/app";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { natsUsers } from "@flotilla/nats";
import { describe, expect, it } from "vitest";
import { shopApp } from "../../../examples/shop/src/app.js";
import { gatewayNeeds } from "../src/commands/nats-config.js";
import { consumerGroups, HPA_DEFAULT_BEHAVIOR } from "../src/k8s/autoscaling.js";
import { k8sManifests } from "../src/k8s/manifests.js";
import type { K8sSettings } from "../src/k8s/objects.js";
import { yamlStream } from "../src/k8s/yaml-output.js";
import { type Manifest, parseStream, validateManifest } from "./deploy-k8s-validate.js";

const SETTINGS: K8sSettings = {
  app: "shop",
  namespace: "shop",
  image: "registry.example/shop:1.0.0",
  layout: "app",
  nats: { kind: "statefulset" },
  registry: false,
  databaseUrlTemplate: "postgres://flotilla_{service}:{password}@db.data:5433/{service}",
  monitoringNamespace: "monitoring",
  kedaNamespace: "keda",
};
const EDGE_KEYS = '{"keys":[]}\n';

/** The manifests as `kubectl apply` reads them: generated, written as YAML and parsed back. */
function manifests(app: FlotillaApp = shopApp, settings: K8sSettings = SETTINGS): Manifest[] {
  const files = k8sManifests({ app, settings, edgeKeys: EDGE_KEYS });
  return parseStream(yamlStream(files.flatMap((f) => f.objects)));
}

const find = (docs: Manifest[], kind: string, name: string) => {
  const found = docs.find((d) => d.kind === kind && d.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
const container = (deployment: Manifest) => deployment.spec.template.spec.containers[0];

describe("flotilla deploy k8s: the shop's manifests", () => {
  const docs = manifests();
  const units = deploymentUnits(shopApp);

  it("validate against the Kubernetes and KEDA schemas, every document", () => {
    expect(docs.length).toBeGreaterThan(30);
    for (const doc of docs) expect(() => validateManifest(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    for (const doc of docs.filter((d) => d.kind !== "Namespace")) expect(doc.metadata.namespace).toBe("shop");
  });

  it("fail validation when a field has the wrong type, so the validation above is real", () => {
    const deployment = structuredClone(find(docs, "Deployment", "orders"));
    deployment.spec.replicas = "two";
    expect(() => validateManifest(deployment)).toThrow(/spec\/replicas must be integer/);
    const scaled = structuredClone(find(docs, "ScaledObject", "orders"));
    scaled.spec.triggers[1].metadata.lagThreshold = 100;
    expect(() => validateManifest(scaled)).toThrow(/lagThreshold must be string/);
    const policy = structuredClone(find(docs, "NetworkPolicy", "edge"));
    policy.spec.ingress = { ports: [] };
    expect(() => validateManifest(policy)).toThrow(/spec\/ingress must be array/);
    expect(() => validateManifest({ ...deployment, apiVersion: "apps/v9" })).toThrow(/no schema for apps\/v9/);
  });

  it("run each unit as a Deployment of `flotilla start --unit`, probed on its ops port, with its resources", () => {
    expect(units.map((u) => u.name)).toEqual(["edge", "browse", "orders", "fulfilment", "notifications"]);
    expect(docs.filter((d) => d.kind === "Deployment").map((d) => d.metadata.name)).toEqual(units.map((u) => u.name));
    for (const unit of units) {
      const deployment = find(docs, "Deployment", unit.name);
      expect(deployment.spec.replicas).toBe(unit.instances);
      const podSelector = { "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/name": unit.name };
      expect(deployment.spec.selector.matchLabels).toEqual(podSelector);
      expect(deployment.spec.template.metadata.labels).toMatchObject(podSelector);
      const c = container(deployment);
      expect(c.image).toBe("registry.example/shop:1.0.0");
      expect([...c.command, ...c.args]).toEqual([
        "flotilla",
        "start",
        "--unit",
        unit.name,
        "--transport",
        "$(FLOTILLA_TRANSPORT)",
        "--host",
        "0.0.0.0",
        "--ops-port",
        "9090",
      ]);
      expect(c.livenessProbe.httpGet).toEqual({ path: "/livez", port: "ops" });
      expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "ops" });
      expect(c.ports.find((p: { name: string }) => p.name === "ops").containerPort).toBe(9090);
      expect(c.resources.requests).toEqual(unit.resources);
      expect(c.resources.limits).toEqual({ memory: "512Mi" });
      // Every variable of its Secret, by reference: no credential in the Deployment itself.
      const fromSecret = c.env.filter((e: { valueFrom?: unknown }) => e.valueFrom !== undefined);
      const secret = find(docs, "Secret", `${unit.name}-credentials`);
      expect(fromSecret.map((e: { name: string }) => e.name).sort()).toEqual(Object.keys(secret.stringData).sort());
      for (const e of fromSecret) expect(e.valueFrom.secretKeyRef.name).toBe(`${unit.name}-credentials`);
      expect(c.env).toContainEqual({ name: "FLOTILLA_EDGE_KEYS", value: "/etc/flotilla/edge-keys/edge-keys.json" });
      expect(deployment.spec.template.spec.volumes).toContainEqual({
        name: "edge-keys",
        secret: { secretName: "edge-keys", defaultMode: 0o400 },
      });
    }
  });

  it("serve the gateway's port on the edge unit only, and every unit's ops port", () => {
    for (const unit of units) {
      const ports = find(docs, "Service", unit.name).spec.ports.map((p: { port: number }) => p.port);
      expect(ports).toEqual(unit.name === "edge" ? [8080, 9090] : [9090]);
    }
  });

  it("scale event consumers with a KEDA ScaledObject on CPU and the lag of each consumer group, and no HPA beside", () => {
    expect(docs.filter((d) => d.kind === "HorizontalPodAutoscaler")).toEqual([]);
    for (const unit of units) {
      const groups = consumerGroups(shopApp.services.filter((s) => unit.services.includes(s.name)));
      expect(groups.length, unit.name).toBeGreaterThan(0);
      const spec = find(docs, "ScaledObject", unit.name).spec;
      expect(spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: unit.name });
      expect([spec.minReplicaCount, spec.maxReplicaCount]).toEqual([unit.scaling.min, unit.scaling.max]);
      expect(spec.advanced.horizontalPodAutoscalerConfig.behavior).toEqual(HPA_DEFAULT_BEHAVIOR);
      const [cpu, ...lag] = spec.triggers;
      expect(cpu).toEqual({ type: "cpu", metricType: "Utilization", metadata: { value: "70" } });
      expect(lag.map((t: { metadata: Record<string, string> }) => [t.metadata.stream, t.metadata.consumer])).toEqual(
        groups.map((g) => [g.stream, g.consumer]),
      );
      for (const trigger of lag) {
        expect(trigger.type).toBe("nats-jetstream");
        expect(trigger.metadata.natsServerMonitoringEndpoint).toBe("nats.shop.svc.cluster.local:8222");
        expect(trigger.metadata.lagThreshold).toBe(String(unit.scaling.lagPerInstance));
      }
    }
    // Names as the NATS transport gives them: the group `<service>.<subscription>` on the emitter's stream.
    const notifications = find(docs, "ScaledObject", "notifications").spec.triggers.slice(1);
    expect(notifications[0].metadata).toMatchObject({
      stream: "FLOTILLA_EVT_IDENTITY",
      consumer: "notifications_userRegistered",
      lagThreshold: "50",
    });
  });

  it("put a plain HPA on units that consume no events, with the HPA's default behaviour written out", () => {
    const app: FlotillaApp = {
      ...shopApp,
      units: {
        ...shopApp.units,
        edge: { services: ["identity"] },
        gateway: { services: [], gateway: true, scaling: { min: 2, max: 6, cpuPercent: 60 } },
      },
    };
    const split = manifests(app);
    for (const doc of split) validateManifest(doc);
    const hpa = find(split, "HorizontalPodAutoscaler", "gateway").spec;
    expect(hpa).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gateway" },
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
      ],
      behavior: HPA_DEFAULT_BEHAVIOR,
    });
    expect(split.filter((d) => d.metadata.name === "gateway").map((d) => d.kind)).not.toContain("ScaledObject");
    // A unit whose bounds are equal has nothing to scale: no autoscaler at all.
    expect(split.filter((d) => d.metadata.name === "edge").map((d) => d.kind)).toEqual([
      "Deployment",
      "Service",
      "NetworkPolicy",
    ]);
  });

  it("deny everything, then allow each unit DNS, NATS and its database out, and only its own ports in", () => {
    expect(find(docs, "NetworkPolicy", "default-deny").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shop" } },
      policyTypes: ["Ingress", "Egress"],
    });
    const monitoring = {
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
      ports: [{ protocol: "TCP", port: 9090 }],
    };
    for (const unit of units) {
      const spec = find(docs, "NetworkPolicy", unit.name).spec;
      expect(spec.podSelector.matchLabels["app.kubernetes.io/name"]).toBe(unit.name);
      expect(spec.ingress).toEqual(
        unit.gateway ? [{ ports: [{ protocol: "TCP", port: 8080 }] }, monitoring] : [monitoring],
      );
      const [dns, nats, database, ...more] = spec.egress;
      expect(dns.ports).toEqual([
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ]);
      expect(dns.to[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "kube-system" });
      expect(nats).toEqual({
        to: [
          { podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/name": "nats" } } },
        ],
        ports: [{ protocol: "TCP", port: 4222 }],
      });
      expect(database).toEqual({ ports: [{ protocol: "TCP", port: 5433 }] });
      expect(more).toEqual([]);
    }
    const nats = find(docs, "NetworkPolicy", "nats").spec;
    expect(nats.egress).toEqual([]);
    expect(nats.ingress[0]).toEqual({
      from: [{ podSelector: { matchLabels: { "app.kubernetes.io/part-of": "shop" } } }],
      ports: [{ protocol: "TCP", port: 4222 }],
    });
    expect(nats.ingress[1].ports).toEqual([{ protocol: "TCP", port: 8222 }]);
  });

  it("give each unit a Secret with its own NATS user, whose permissions are the least-privilege ones", () => {
    const expected = natsUsers(
      units.map((u) => {
        const services = shopApp.services.filter((s) => u.services.includes(s.name));
        return u.gateway ? { name: u.name, services, gateway: gatewayNeeds(shopApp) } : { name: u.name, services };
      }),
    );
    const auth = find(docs, "Secret", "nats-auth").stringData["auth.conf"] as string;
    const configured = JSON.parse(auth.replace(/^authorization: /, "")).users as {
      user: string;
      password: string;
      permissions: unknown;
    }[];
    expect(configured.map((u) => u.user)).toEqual(units.map((u) => u.name));
    for (const [i, unit] of units.entries()) {
      expect(configured[i]!.permissions).toEqual(expected[i]!.permissions);
      const url = new URL(find(docs, "Secret", `${unit.name}-credentials`).stringData.FLOTILLA_TRANSPORT);
      expect(url.host).toBe("nats.shop.svc.cluster.local:4222");
      expect([decodeURIComponent(url.username), decodeURIComponent(url.password)]).toEqual([
        unit.name,
        configured[i]!.password,
      ]);
      expect(url.searchParams.get("inboxPrefix")).toBe(`_INBOX_${unit.name}`);
    }
    // Another unit's password is not this one's.
    expect(new Set(configured.map((u) => u.password)).size).toBe(units.length);
  });

  it("give each service its own database URL from the template, and mount the edge keys", () => {
    const browse = find(docs, "Secret", "browse-credentials").stringData;
    expect(Object.keys(browse).sort()).toEqual([
      "FLOTILLA_DB_CATALOG",
      "FLOTILLA_DB_RECOMMENDATIONS",
      "FLOTILLA_DB_REVIEWS",
      "FLOTILLA_TRANSPORT",
    ]);
    expect(browse.FLOTILLA_DB_CATALOG).toMatch(
      /^postgres:\/\/flotilla_catalog:[A-Za-z0-9_-]{32}@db\.data:5433\/catalog$/,
    );
    expect(browse.FLOTILLA_DB_REVIEWS).toMatch(
      /^postgres:\/\/flotilla_reviews:[A-Za-z0-9_-]{32}@db\.data:5433\/reviews$/,
    );
    expect(find(docs, "Secret", "edge-keys").stringData).toEqual({ "edge-keys.json": EDGE_KEYS });
  });

  it("use an external NATS server by URL: no StatefulSet, its address in the Secrets, its port in the policies", () => {
    const external = manifests(shopApp, {
      ...SETTINGS,
      nats: { kind: "external", url: "nats://nats.infra:4333", monitoring: "nats.infra:8333" },
      databaseUrlTemplate: undefined,
    } as K8sSettings);
    for (const doc of external) validateManifest(doc);
    expect(external.filter((d) => ["StatefulSet", "ConfigMap"].includes(d.kind))).toEqual([]);
    expect(external.find((d) => d.metadata.name === "nats-auth")).toBeUndefined();
    const orders = find(external, "Secret", "orders-credentials").stringData;
    expect(Object.keys(orders)).toEqual(["FLOTILLA_TRANSPORT"]);
    expect(new URL(orders.FLOTILLA_TRANSPORT).host).toBe("nats.infra:4333");
    expect(find(external, "NetworkPolicy", "orders").spec.egress.slice(1)).toEqual([
      { ports: [{ protocol: "TCP", port: 4333 }] },
    ]);
    const trigger = find(external, "ScaledObject", "orders").spec.triggers[1];
    expect(trigger.metadata.natsServerMonitoringEndpoint).toBe("nats.infra:8333");
  });

  it("point every unit at the app's HTTP upstreams, and let them out on the upstreams' ports", () => {
    const docs = manifests(shopApp, { ...SETTINGS, upstreams: { legacy: "http://legacy.shop-legacy:8081" } });
    for (const unit of units) {
      expect(container(find(docs, "Deployment", unit.name)).env).toContainEqual({
        name: "FLOTILLA_UPSTREAM_LEGACY",
        value: "http://legacy.shop-legacy:8081",
      });
      expect(find(docs, "NetworkPolicy", unit.name).spec.egress.slice(2)).toEqual([
        { ports: [{ protocol: "TCP", port: 5433 }] },
        { ports: [{ protocol: "TCP", port: 8081 }] },
      ]);
    }
  });

  it("run the layout given and use the registry when asked, in the container's arguments and users", () => {
    const single = manifests(shopApp, { ...SETTINGS, layout: "single", registry: true });
    const deployments = single.filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name)).toEqual(["shop"]);
    expect(container(deployments[0]!).args).toEqual([
      "start",
      "--unit",
      "shop",
      "--layout",
      "single",
      "--transport",
      "$(FLOTILLA_TRANSPORT)",
      "--registry",
      "$(FLOTILLA_TRANSPORT)",
      "--host",
      "0.0.0.0",
      "--ops-port",
      "9090",
    ]);
    expect(find(single, "Secret", "nats-auth").stringData["auth.conf"]).toContain('"$KV.flotilla_registry.catalog.*"');
  });

  it("refuse a unit named like one of the manifests' own objects", () => {
    const app: FlotillaApp = { ...shopApp, units: { ...shopApp.units, nats: shopApp.units!.edge! } };
    const { edge: _, ...units } = app.units!;
    const clash = { ...app, units };
    const refused = (() => {
      try {
        k8sManifests({ app: clash, settings: SETTINGS, edgeKeys: EDGE_KEYS });
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(FlotillaError);
    expect((refused as FlotillaError).code).toBe(FlotillaCodes.CONFIG.code);
    expect((refused as Error).message).toContain('unit name "nats" is taken');
  });
});
