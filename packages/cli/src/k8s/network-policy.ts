/**
 * @module NetworkPolicies: everything of the app denied, then each unit allowed only what it needs —
 * DNS, NATS, its databases and the app's HTTP upstreams out; the gateway's port from anywhere and the
 * ops port from monitoring in.
 * Services never talk to each other directly: every call and event goes through NATS.
 */
import type { ResolvedUnit } from "@flotilla/app";
import {
  appSelector,
  GATEWAY_PORT,
  type K8sObject,
  type K8sSettings,
  meta,
  NATS_CLIENT_PORT,
  NATS_MONITOR_PORT,
  NATS_NAME,
  OPS_PORT,
  selector,
  urlPort,
} from "./objects.js";

const NAMESPACE_NAME = "kubernetes.io/metadata.name";

/** Every pod of the app: no traffic in or out but what a policy below allows (policies add up). */
export function defaultDeny(settings: K8sSettings): K8sObject {
  return policy(settings, "default-deny", {
    podSelector: { matchLabels: appSelector(settings) },
    policyTypes: ["Ingress", "Egress"],
  });
}

/**
 * What one unit's pods may reach and be reached by. `databasePorts`: its services' PostgreSQL ports.
 * Databases and upstreams are allowed by port: a policy cannot name a host, and their addresses are
 * not known when the manifests are written.
 */
export function unitPolicy(settings: K8sSettings, unit: ResolvedUnit, databasePorts: readonly number[]): K8sObject {
  const ingress = [
    ...(unit.gateway ? [{ ports: [tcp(GATEWAY_PORT)] }] : []),
    { from: [namespace(settings.monitoringNamespace)], ports: [tcp(OPS_PORT)] },
  ];
  const upstreamPorts = Object.values(settings.upstreams ?? {}).map(urlPort);
  const ports = [...new Set([...databasePorts, ...upstreamPorts])];
  const egress = [dns(), natsEgress(settings), ...ports.map((port) => ({ ports: [tcp(port)] }))];
  return policy(settings, unit.name, {
    podSelector: { matchLabels: selector(settings, unit.name) },
    policyTypes: ["Ingress", "Egress"],
    ingress,
    egress,
  });
}

/** The NATS StatefulSet's pods: clients from the app's pods, monitoring from KEDA and Prometheus; nothing out. */
export function natsPolicy(settings: K8sSettings): K8sObject {
  return policy(settings, NATS_NAME, {
    podSelector: { matchLabels: selector(settings, NATS_NAME) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      { from: [{ podSelector: { matchLabels: appSelector(settings) } }], ports: [tcp(NATS_CLIENT_PORT)] },
      {
        from: [namespace(settings.kedaNamespace), namespace(settings.monitoringNamespace)],
        ports: [tcp(NATS_MONITOR_PORT)],
      },
    ],
    egress: [],
  });
}

function policy(settings: K8sSettings, name: string, spec: Record<string, unknown>): K8sObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta(settings, name), spec };
}

/**
 * To the StatefulSet's pods; to an external server, only its port: a policy cannot name a host, and the
 * server's addresses are not known when the manifests are written.
 */
function natsEgress(settings: K8sSettings) {
  if (settings.nats.kind === "statefulset") {
    return { to: [{ podSelector: { matchLabels: selector(settings, NATS_NAME) } }], ports: [tcp(NATS_CLIENT_PORT)] };
  }
  return { ports: [tcp(Number(new URL(settings.nats.url).port || NATS_CLIENT_PORT))] };
}

/** The cluster's DNS (kube-dns / CoreDNS in kube-system), to resolve NATS's and the databases' names. */
function dns() {
  return {
    to: [{ ...namespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
}

function namespace(name: string) {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME]: name } } };
}

function tcp(port: number) {
  return { protocol: "TCP", port };
}
