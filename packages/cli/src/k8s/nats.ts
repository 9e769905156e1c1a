/**
 * @module NATS in the cluster: a one-server JetStream StatefulSet with its headless Service, its
 * configuration in a ConfigMap, and the generated users' authorization block in a Secret it includes
 * (passwords do not belong in a ConfigMap).
 */
import type { NatsUser } from "@flotilla/nats";
import {
  type K8sObject,
  type K8sSettings,
  labels,
  meta,
  NATS_CLIENT_PORT,
  NATS_MONITOR_PORT,
  NATS_NAME,
  selector,
} from "./objects.js";

/** The nats-server image the StatefulSet runs; the configuration is also accepted by 2.9. */
export const NATS_IMAGE = "nats:2.10.22-alpine";
export const NATS_CONFIG_MAP = "nats-config";
export const NATS_AUTH_SECRET = "nats-auth";
const CONFIG_DIR = "/etc/nats";
const STORE_DIR = "/data";

/** nats-server's configuration: ports, JetStream on the volume, and the users from the included file. */
export function natsServerSettings(): string {
  return [
    "# nats-server configuration written by `flotilla deploy k8s`: JetStream on the pod's volume, and",
    "# only the users of auth.conf (the nats-auth Secret), one least-privilege user per deployment unit.",
    `port: ${NATS_CLIENT_PORT}`,
    `http_port: ${NATS_MONITOR_PORT}`,
    `jetstream: ${JSON.stringify({ store_dir: STORE_DIR })}`,
    "include ./auth.conf",
    "",
  ].join("\n");
}

/** The `authorization` block of the users, as nats-server's configuration accepts it (JSON values). */
export function natsAuthorization(users: readonly NatsUser[]): string {
  const entries = users.map((u) => ({ user: u.user, password: u.password, permissions: u.permissions }));
  return `authorization: ${JSON.stringify({ users: entries }, null, 2)}\n`;
}

/** Every object NATS needs: ConfigMap, Secret, headless Service and StatefulSet. */
export function natsObjects(settings: K8sSettings, users: readonly NatsUser[]): K8sObject[] {
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(settings, NATS_CONFIG_MAP, NATS_NAME),
      data: { "nats.conf": natsServerSettings() },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: meta(settings, NATS_AUTH_SECRET, NATS_NAME),
      type: "Opaque",
      stringData: { "auth.conf": natsAuthorization(users) },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(settings, NATS_NAME),
      spec: {
        // Headless: the StatefulSet's pods get stable names; clients resolve the name to the pod.
        clusterIP: "None",
        selector: selector(settings, NATS_NAME),
        ports: [
          { name: "client", port: NATS_CLIENT_PORT, targetPort: "client", protocol: "TCP" },
          { name: "monitor", port: NATS_MONITOR_PORT, targetPort: "monitor", protocol: "TCP" },
        ],
      },
    },
    statefulSet(settings),
  ];
}

function statefulSet(settings: K8sSettings): K8sObject {
  const health = (path: string, periodSeconds: number) => ({
    httpGet: { path, port: "monitor" },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta(settings, NATS_NAME),
    spec: {
      serviceName: NATS_NAME,
      replicas: 1,
      selector: { matchLabels: selector(settings, NATS_NAME) },
      template: {
        metadata: { labels: labels(settings, NATS_NAME) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            fsGroup: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "nats",
              image: NATS_IMAGE,
              args: ["-c", `${CONFIG_DIR}/nats.conf`],
              ports: [
                { name: "client", containerPort: NATS_CLIENT_PORT, protocol: "TCP" },
                { name: "monitor", containerPort: NATS_MONITOR_PORT, protocol: "TCP" },
              ],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "1Gi" } },
              // As NATS's own chart: started once JetStream is healthy; alive and ready need less, so a
              // slow stream recovery does not get the server restarted.
              startupProbe: { ...health("/healthz", 2), failureThreshold: 90 },
              livenessProbe: health("/healthz?js-enabled-only=true", 10),
              readinessProbe: health("/healthz?js-server-only=true", 5),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "config", mountPath: CONFIG_DIR, readOnly: true },
                { name: "data", mountPath: STORE_DIR },
              ],
            },
          ],
          volumes: [
            {
              name: "config",
              projected: {
                sources: [{ configMap: { name: NATS_CONFIG_MAP } }, { secret: { name: NATS_AUTH_SECRET } }],
              },
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels: labels(settings, NATS_NAME) },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } },
        },
      ],
    },
  };
}
