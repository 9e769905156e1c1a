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
 * HPA's `calcPlainMetricReplicas`: `ceil(ratio × ready)` outside the tolerance, else no change. When it
 * would scale up while instances are still starting, those count as idle (usage 0), and the proposal is
 * dropped if that flips its direction; undefined when no instance is ready (no reading to trust).
 */
export function podMetricReplicas(m: PodMetric): number | undefined {
  if (m.ready <= 0) return undefined;
  const ratio = m.average / m.target;
  const starting = Math.max(0, m.current - m.ready);
  if (starting === 0 || ratio <= 1) {
    return withinTolerance(ratio, m.tolerance) ? m.current : Math.ceil(ratio * m.ready);
  }
  const counted = m.ready + starting;
  const newRatio = (m.average * m.ready) / (m.target * counted);
  if (withinTolerance(newRatio, m.tolerance) || newRatio < 1) return m.current;
  return Math.max(m.current, Math.ceil(newRatio * counted));
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
