/**
 * @module Deployment units: which of an app's services share a process, how many instances of each
 * process run, and between which bounds they scale. The same services run in every layout; only the
 * grouping changes (docs/deployment.md).
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import type { FlotillaApp } from "./app.js";

/** When to add and remove a unit's instances; the signals a cluster's autoscalers read. */
export interface UnitScaling {
  /** Fewest instances (default 1). */
  readonly min?: number;
  /** Most instances (default: `min`, i.e. no autoscaling). */
  readonly max?: number;
  /** Wanted in-flight calls per instance, averaged over the unit (default 8). */
  readonly inFlightPerInstance?: number;
  /** Wanted JetStream consumer lag (pending + unacknowledged messages) per instance, as KEDA's `lagThreshold` (default 100). */
  readonly lagPerInstance?: number;
  /** Wanted CPU use per instance in percent of its request, as an HPA's `averageUtilization` (default 70). */
  readonly cpuPercent?: number;
}

/** Compute a unit's process asks for: Kubernetes quantities (`250m`, `256Mi`). */
export interface UnitResources {
  readonly cpu?: string;
  readonly memory?: string;
}

/** One deployment unit as an app declares it. */
export interface DeploymentUnit {
  /** Names of the services this unit's processes run (each service is in exactly one unit). */
  readonly services: readonly string[];
  /** This unit also serves the app's gateway (at most one unit does). */
  readonly gateway?: boolean;
  /** Instances to start with (default: the scaling minimum). */
  readonly instances?: number;
  readonly scaling?: UnitScaling;
  readonly resources?: UnitResources;
}

/** A unit with every default filled in, validated against the app. */
export interface ResolvedUnit {
  readonly name: string;
  readonly services: readonly string[];
  readonly gateway: boolean;
  readonly instances: number;
  readonly scaling: Required<UnitScaling>;
  readonly resources: Required<UnitResources>;
}

/**
 * The layouts every app has without declaring anything: `single` (every service and the gateway in one
 * unit), `per-service` (a unit per service, then `gateway` alone), and `app` (the app's own `units`, else
 * `per-service`).
 */
export type Layout = "app" | "single" | "per-service";
export const LAYOUTS: readonly Layout[] = ["app", "single", "per-service"];

export const DEFAULT_SCALING: Required<UnitScaling> = {
  min: 1,
  max: 1,
  inFlightPerInstance: 8,
  lagPerInstance: 100,
  cpuPercent: 70,
};
export const DEFAULT_RESOURCES: Required<UnitResources> = { cpu: "250m", memory: "256Mi" };

/** Unit names become process names, Kubernetes objects and NATS users: DNS labels. */
const UNIT_NAME = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** The app's units in a layout, resolved and checked: every service in exactly one unit, the gateway in at most one. */
export function deploymentUnits(app: FlotillaApp, layout: Layout = "app"): ResolvedUnit[] {
  const declared = layoutUnits(app, layout);
  const known = new Set(app.services.map((s) => s.name));
  const placed = new Map<string, string>();
  let gatewayUnit: string | undefined;
  const units = Object.entries(declared).map(([name, unit]) => {
    if (!UNIT_NAME.test(name)) {
      throw configError(`${app.name}: unit name "${name}" must be lower-case letters, digits and '-' (a DNS label)`);
    }
    for (const service of unit.services) {
      if (!known.has(service)) {
        throw configError(`${app.name}: unit ${name} names service "${service}", which the app does not have`);
      }
      const other = placed.get(service);
      if (other !== undefined) throw configError(`${app.name}: service ${service} is in units ${other} and ${name}`);
      placed.set(service, name);
    }
    if (unit.gateway) {
      if (app.gateway === undefined) throw configError(`${app.name}: unit ${name} serves a gateway the app lacks`);
      if (gatewayUnit !== undefined)
        throw configError(`${app.name}: units ${gatewayUnit} and ${name} both serve the gateway`);
      gatewayUnit = name;
    }
    if (unit.services.length === 0 && !unit.gateway) throw configError(`${app.name}: unit ${name} runs nothing`);
    return resolveUnit(app.name, name, unit);
  });
  const missing = [...known].filter((s) => !placed.has(s));
  if (missing.length > 0) throw configError(`${app.name}: services ${missing.join(", ")} are in no unit`);
  return units;
}

/** The unit of this name in a layout, or a FLOTILLA_CONFIG error listing the names there are. */
export function deploymentUnit(app: FlotillaApp, name: string, layout: Layout = "app"): ResolvedUnit {
  const units = deploymentUnits(app, layout);
  const unit = units.find((u) => u.name === name);
  if (unit === undefined) {
    throw configError(`${app.name} has no unit "${name}" (its units: ${units.map((u) => u.name).join(", ")})`);
  }
  return unit;
}

function layoutUnits(app: FlotillaApp, layout: Layout): Readonly<Record<string, DeploymentUnit>> {
  if (!LAYOUTS.includes(layout)) throw configError(`layout must be one of ${LAYOUTS.join(", ")}, got "${layout}"`);
  if (layout === "app" && app.units !== undefined) return app.units;
  if (layout === "single") {
    return {
      [unitNameOf(app.name)]: { services: app.services.map((s) => s.name), gateway: app.gateway !== undefined },
    };
  }
  const units: Record<string, DeploymentUnit> = {};
  for (const s of app.services) units[unitNameOf(s.name)] = { services: [s.name] };
  if (app.gateway !== undefined) units.gateway = { services: [], gateway: true };
  return units;
}

function resolveUnit(appName: string, name: string, unit: DeploymentUnit): ResolvedUnit {
  const scaling = { ...DEFAULT_SCALING, ...unit.scaling };
  if (unit.scaling?.max === undefined) scaling.max = Math.max(scaling.min, unit.instances ?? scaling.min);
  const counts = [scaling.min, scaling.max, unit.instances ?? scaling.min];
  if (!counts.every((n) => Number.isInteger(n) && n >= 0) || scaling.min > scaling.max) {
    throw configError(`${appName}: unit ${name} needs whole numbers 0 <= min <= instances <= max`);
  }
  const instances = unit.instances ?? scaling.min;
  if (instances < scaling.min || instances > scaling.max) {
    throw configError(`${appName}: unit ${name} starts ${instances} instances, outside ${scaling.min}..${scaling.max}`);
  }
  for (const key of ["inFlightPerInstance", "lagPerInstance", "cpuPercent"] as const) {
    if (!(scaling[key] > 0)) throw configError(`${appName}: unit ${name}'s scaling.${key} must be above 0`);
  }
  return {
    name,
    services: [...unit.services],
    gateway: unit.gateway === true,
    instances,
    scaling,
    resources: { ...DEFAULT_RESOURCES, ...unit.resources },
  };
}

/** A service or app name as a unit name (`order-history` stays, `Order_History` → `order-history`). */
function unitNameOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function configError(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
