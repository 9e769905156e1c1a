/**
 * @module The Kubernetes HPA's replica calculator, one metric at a time: how many instances a metric
 * asks for, given its reading, its target and the unit's instances (ready or starting).
 */

/** A metric averaged over ready instances, as an HPA's `Pods` or `Resource` metric with an average target. */
export interface PodMetric {
  /** Instances the unit has now (ready or not). */
  readonly current: number;
  /** Ready instances, the ones the average is taken over. */
  readonly ready: number;
  /** The reading's mean per ready instance. */
  readonly average: number;
  readonly target: number;
  readonly tolerance: number;
}

/**
 * HPA's `calcPlainMetricReplicas`: `ceil(ratio × ready)` outside the tolerance, else no change.
 * Instances still starting have no reading, like the HPA's "missing pods": on a scale-up they count as
 * idle (usage 0), on a scale-down as exactly at the target, and the ratio is taken again over all
 * instances; if that lands within the tolerance or flips the direction, nothing changes. Undefined
 * when no instance is ready (no reading to trust).
 */
export function podMetricReplicas(m: PodMetric): number | undefined {
  if (m.ready <= 0) return undefined;
  const ratio = m.average / m.target;
  const starting = Math.max(0, m.current - m.ready);
  if (starting === 0) return withinTolerance(ratio, m.tolerance) ? m.current : Math.ceil(ratio * m.ready);
  const counted = m.ready + starting;
  const fill = ratio < 1 ? m.target : 0;
  const newRatio = (m.average * m.ready + fill * starting) / (m.target * counted);
  const flipped = (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1);
  if (withinTolerance(newRatio, m.tolerance) || flipped) return m.current;
  const replicas = Math.ceil(newRatio * counted);
  const against = (newRatio < 1 && replicas > m.current) || (newRatio > 1 && replicas < m.current);
  return against ? m.current : replicas;
}

/**
 * HPA's `GetExternalPerPodMetricReplicas` (an `External` metric with an `AverageValue` target, which
 * KEDA's scalers produce): `ceil(total / targetPerInstance)` unless `total / (target × current)` is
 * within the tolerance.
 */
export function externalPerPodReplicas(current: number, total: number, targetPerInstance: number, tolerance: number) {
  const ratio = total / (targetPerInstance * current);
  return withinTolerance(ratio, tolerance) ? current : Math.ceil(total / targetPerInstance);
}

function withinTolerance(ratio: number, tolerance: number): boolean {
  return Math.abs(1 - ratio) <= tolerance;
}
