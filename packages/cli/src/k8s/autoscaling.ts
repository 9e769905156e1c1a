/**
 * @module A unit's autoscaler: a KEDA ScaledObject (CPU and JetStream lag) for units that consume
 * events, an HPA on CPU for the others. KEDA makes and owns an HPA for its ScaledObject, so a unit never
 * gets both (two HPAs on one Deployment fight over its replicas).
 */
import type { ResolvedUnit } from "@flotilla/app";
import type { ServiceDefinition } from "@flotilla/core";
import { durableName, eventStream, serviceOf } from "@flotilla/nats/internal";
import { DEFAULT_DOWNSCALE, DEFAULT_UPSCALE, type ScalePolicy } from "@flotilla/supervisor";
import { type K8sObject, type K8sSettings, meta, natsMonitoringEndpoint } from "./objects.js";

/** One durable consumer a unit's instances share: what KEDA's `nats-jetstream` trigger reads the lag of. */
export interface ConsumerGroup {
  /** `orders.confirmation` (service and subscription). */
  readonly group: string;
  /** The emitting service's stream: `FLOTILLA_EVT_PAYMENTS`. */
  readonly stream: string;
  /** The group's durable consumer on it: `orders_confirmation`. */
  readonly consumer: string;
}

/**
 * The durable consumers of `services`, named as the NATS transport names them: a subscription is one
 * event type, so its group `<service>.<subscription>` reads one consumer on the type's service's stream.
 * Broadcast subscriptions use ephemeral consumers per instance: no shared lag to scale on.
 */
export function consumerGroups(services: readonly ServiceDefinition[]): ConsumerGroup[] {
  return services.flatMap((service) =>
    service.subscriptions
      .filter((sub) => !sub.broadcast)
      .map((sub) => {
        const group = `${service.name}.${sub.name}`;
        return { group, stream: eventStream(serviceOf(sub.event.type)), consumer: durableName(group) };
      }),
  );
}

/** A supervisor scale policy as an HPA's `behavior.scaleUp` / `scaleDown` (autoscaling/v2). */
function hpaRules(policy: ScalePolicy) {
  return {
    stabilizationWindowSeconds: policy.stabilizationWindowMs / 1000,
    selectPolicy: policy.select === "min" ? "Min" : policy.select === "disabled" ? "Disabled" : "Max",
    policies: policy.policies.map((r) => ({
      type: r.type === "pods" ? "Pods" : "Percent",
      value: r.value,
      periodSeconds: r.periodMs / 1000,
    })),
  };
}

/**
 * An HPA's defaults, written out from the very policies the local supervisor scales by (one source, so
 * local predicts the cluster): scale up at once by up to 100% or 4 pods per 15 s, scale down only after
 * 5 minutes of lower recommendations.
 */
export const HPA_DEFAULT_BEHAVIOR = { scaleUp: hpaRules(DEFAULT_UPSCALE), scaleDown: hpaRules(DEFAULT_DOWNSCALE) };

/** The unit's autoscaler, or none when its bounds leave nothing to decide (min = max). */
export function autoscaler(
  settings: K8sSettings,
  unit: ResolvedUnit,
  groups: readonly ConsumerGroup[],
): K8sObject | undefined {
  if (unit.scaling.max <= unit.scaling.min) return undefined;
  return groups.length > 0 ? scaledObject(settings, unit, groups) : hpa(settings, unit);
}

function hpa(settings: K8sSettings, unit: ResolvedUnit): K8sObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: meta(settings, unit.name),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: unit.name },
      // An HPA cannot go below one pod; only KEDA scales to zero.
      minReplicas: Math.max(1, unit.scaling.min),
      maxReplicas: unit.scaling.max,
      metrics: [cpuMetric(unit)],
      behavior: HPA_DEFAULT_BEHAVIOR,
    },
  };
}

function cpuMetric(unit: ResolvedUnit) {
  return {
    type: "Resource",
    resource: { name: "cpu", target: { type: "Utilization", averageUtilization: unit.scaling.cpuPercent } },
  };
}

/**
 * KEDA's ScaledObject: one CPU trigger and one `nats-jetstream` trigger per consumer group. KEDA feeds
 * them to the HPA it makes (named after the unit, with the same behaviour), which takes the largest
 * replica count any of them asks for.
 */
function scaledObject(settings: K8sSettings, unit: ResolvedUnit, groups: readonly ConsumerGroup[]): K8sObject {
  const lag = groups.map((g) => ({
    type: "nats-jetstream",
    name: `lag-${g.consumer.toLowerCase().replaceAll("_", "-")}`.slice(0, 63),
    metadata: {
      natsServerMonitoringEndpoint: natsMonitoringEndpoint(settings),
      // No accounts in the generated configuration: every user is in the global account.
      account: "$G",
      stream: g.stream,
      consumer: g.consumer,
      lagThreshold: String(unit.scaling.lagPerInstance),
    },
  }));
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: meta(settings, unit.name),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: unit.name },
      minReplicaCount: unit.scaling.min,
      maxReplicaCount: unit.scaling.max,
      // The HPA's sync period, and the local supervisor's.
      pollingInterval: 15,
      advanced: { horizontalPodAutoscalerConfig: { name: unit.name, behavior: HPA_DEFAULT_BEHAVIOR } },
      triggers: [
        { type: "cpu", metricType: "Utilization", metadata: { value: String(unit.scaling.cpuPercent) } },
        ...lag,
      ],
    },
  };
}
