/** @module What every manifest shares: the object shape, the resolved settings, names, labels and ports. */
import type { Layout } from "@flotilla/app";

/** One Kubernetes object, as plain data ready for YAML. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Where the units' processes find NATS: a server outside the manifests, or the JetStream StatefulSet they bring. */
export type NatsPlacement =
  | { readonly kind: "external"; readonly url: string; readonly monitoring: string }
  | { readonly kind: "statefulset" };

/** `flotilla deploy k8s`'s options, checked and with defaults filled in. */
export interface K8sSettings {
  /** The app's name: the `part-of` label of every object. */
  readonly app: string;
  readonly namespace: string;
  /** The container image every unit runs (it holds the app and the `flotilla` command). */
  readonly image: string;
  readonly layout: Layout;
  readonly nats: NatsPlacement;
  /** The processes use the NATS KV registry (`flotilla start --registry`). */
  readonly registry: boolean;
  /** `postgres://…{service}…` (and maybe `{password}`): each service's database; absent, SQLite in the pod. */
  readonly databaseUrlTemplate?: string;
  /** The namespace whose pods may scrape the ops port (Prometheus). */
  readonly monitoringNamespace: string;
  /** The namespace KEDA runs in: its scaler reads the NATS monitoring port. */
  readonly kedaNamespace: string;
  /** Where the app's HTTP upstreams run in the cluster, by name (`legacy` → `http://legacy.shop:8080`). */
  readonly upstreams?: Readonly<Record<string, string>>;
}

/** The ops port every instance serves /livez, /readyz and /metrics on. */
export const OPS_PORT = 9090;
/** The gateway's HTTP port. */
export const GATEWAY_PORT = 8080;
export const NATS_CLIENT_PORT = 4222;
export const NATS_MONITOR_PORT = 8222;
/** Name of the NATS StatefulSet, its headless Service and its pods' `name` label. */
export const NATS_NAME = "nats";
/** Name of the Secret holding the edge keys every unit mounts. */
export const EDGE_KEYS_SECRET = "edge-keys";

const PART_OF = "app.kubernetes.io/part-of";
const NAME = "app.kubernetes.io/name";

/** Labels that select one component's pods (a unit, or NATS) among the app's. */
export function selector(settings: K8sSettings, component: string): Record<string, string> {
  return { [PART_OF]: settings.app, [NAME]: component };
}

/** Every object's labels: the selector's, plus who wrote it. */
export function labels(settings: K8sSettings, component: string): Record<string, string> {
  return { ...selector(settings, component), "app.kubernetes.io/managed-by": "flotilla" };
}

/** Labels every pod of the app carries, whatever its component. */
export function appSelector(settings: K8sSettings): Record<string, string> {
  return { [PART_OF]: settings.app };
}

/** An object's metadata in the app's namespace. */
export function meta(settings: K8sSettings, name: string, component = name): ObjectMeta {
  return { name, namespace: settings.namespace, labels: labels(settings, component) };
}

/** The transport URL the units' processes reach NATS at (before their user is put in). */
export function natsServerUrl(settings: K8sSettings): string {
  return settings.nats.kind === "external"
    ? settings.nats.url
    : `nats://${NATS_NAME}.${settings.namespace}.svc.cluster.local:${NATS_CLIENT_PORT}`;
}

/** The port an upstream's URL reaches: its own, else its scheme's. */
export function urlPort(url: string): number {
  const parsed = new URL(url);
  return Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80));
}

/** `host:port` of NATS's monitoring endpoint, which KEDA's JetStream scaler reads. */
export function natsMonitoringEndpoint(settings: K8sSettings): string {
  return settings.nats.kind === "external"
    ? settings.nats.monitoring
    : `${NATS_NAME}.${settings.namespace}.svc.cluster.local:${NATS_MONITOR_PORT}`;
}
