/** @module A unit's Deployment (its `flotilla start --unit` processes, probes, resources) and its Service. */
import type { ResolvedUnit } from "@flotilla/app";
import { EDGE_KEYS_ENV } from "@flotilla/app";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { upstreamEnvName } from "@flotilla/gateway";
import {
  EDGE_KEYS_SECRET,
  GATEWAY_PORT,
  type K8sObject,
  type K8sSettings,
  labels,
  meta,
  OPS_PORT,
  selector,
} from "./objects.js";
import { EDGE_KEYS_FILE, unitSecretName } from "./secrets.js";

const EDGE_KEYS_DIR = "/etc/flotilla/edge-keys";
const DATA_DIR = "/var/lib/flotilla";

/** The container's arguments: exactly what `flotilla start` needs to run this unit in a pod. */
export function startArgs(settings: K8sSettings, unit: ResolvedUnit): string[] {
  return [
    "start",
    "--unit",
    unit.name,
    ...(settings.layout === "app" ? [] : ["--layout", settings.layout]),
    "--transport",
    "$(FLOTILLA_TRANSPORT)",
    ...(settings.registry ? ["--registry", "$(FLOTILLA_TRANSPORT)"] : []),
    "--host",
    "0.0.0.0",
    "--ops-port",
    String(OPS_PORT),
  ];
}

/** A unit's Deployment: `unit.instances` replicas, each reading its Secret and the edge keys. */
export function deployment(settings: K8sSettings, unit: ResolvedUnit, secretKeys: readonly string[]): K8sObject {
  const ports = [
    ...(unit.gateway ? [{ name: "http", containerPort: GATEWAY_PORT, protocol: "TCP" }] : []),
    { name: "ops", containerPort: OPS_PORT, protocol: "TCP" },
  ];
  const env = [
    ...secretKeys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: unitSecretName(unit.name), key } } })),
    { name: EDGE_KEYS_ENV, value: `${EDGE_KEYS_DIR}/${EDGE_KEYS_FILE}` },
    { name: "FLOTILLA_DATA_DIR", value: DATA_DIR },
    // Every unit: the gateway proxies to upstreams, and a service may read one too (the shop's reviews does).
    ...Object.entries(settings.upstreams ?? {}).map(([name, url]) => ({ name: upstreamEnvName(name), value: url })),
  ];
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(settings, unit.name),
    spec: {
      replicas: unit.instances,
      selector: { matchLabels: selector(settings, unit.name) },
      // One new pod ready before an old one leaves: what `flotilla restart` does locally.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(settings, unit.name) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: unit.name,
              image: settings.image,
              command: ["flotilla"],
              args: startArgs(settings, unit),
              ports,
              env,
              resources: { requests: { ...unit.resources }, limits: { memory: doubled(unit.resources.memory) } },
              startupProbe: probe("/livez", { periodSeconds: 2, failureThreshold: 60 }),
              livenessProbe: probe("/livez", { periodSeconds: 10, failureThreshold: 3 }),
              readinessProbe: probe("/readyz", { periodSeconds: 5, failureThreshold: 2 }),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "edge-keys", mountPath: EDGE_KEYS_DIR, readOnly: true },
                { name: "data", mountPath: DATA_DIR },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "edge-keys", secret: { secretName: EDGE_KEYS_SECRET, defaultMode: 0o400 } },
            { name: "data", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** A unit's Service: the ops port for every unit (scrapes), and the gateway's HTTP port on the gateway unit. */
export function service(settings: K8sSettings, unit: ResolvedUnit): K8sObject {
  const ports = [
    ...(unit.gateway ? [{ name: "http", port: GATEWAY_PORT, targetPort: "http", protocol: "TCP" }] : []),
    { name: "ops", port: OPS_PORT, targetPort: "ops", protocol: "TCP" },
  ];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(settings, unit.name),
    spec: { type: "ClusterIP", selector: selector(settings, unit.name), ports },
  };
}

function probe(path: string, timing: { periodSeconds: number; failureThreshold: number }) {
  return { httpGet: { path, port: "ops" }, timeoutSeconds: 2, ...timing };
}

/** `256Mi` → `512Mi`: the memory limit leaves room above the request, so a short peak is not an OOM kill. */
export function doubled(quantity: string): string {
  const match = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity);
  if (match === null) {
    throw FlotillaError.of(FlotillaCodes.CONFIG, `resources.memory "${quantity}" is not a Kubernetes quantity`);
  }
  return `${Number(match[1]) * 2}${match[2]}`;
}
