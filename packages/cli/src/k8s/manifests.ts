/** @module Every manifest of an app's deployment, grouped by the file each goes to. */
import { deploymentUnits, type FlotillaApp, type ResolvedUnit } from "@flotilla/app";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import { type NatsUnit, type NatsUser, natsUsers } from "@flotilla/nats";
import { DEFAULT_BUCKET } from "@flotilla/nats/internal";
import { gatewayNeeds } from "../commands/nats-config.js";
import { autoscaler, consumerGroups } from "./autoscaling.js";
import { deployment, service } from "./deployment.js";
import { natsObjects } from "./nats.js";
import { defaultDeny, natsPolicy, unitPolicy } from "./network-policy.js";
import { EDGE_KEYS_SECRET, type K8sObject, type K8sSettings, NATS_NAME } from "./objects.js";
import { databaseUrls, edgeKeysSecret, unitSecret } from "./secrets.js";

/** Objects that go together: one file of `--out DIR`, in the order `kubectl apply -f DIR` reads them. */
export interface ManifestFile {
  readonly file: string;
  readonly objects: readonly K8sObject[];
}

/** What the manifests are made of, beyond the settings: the app and its edge keys file's contents. */
export interface ManifestInput {
  readonly app: FlotillaApp;
  readonly settings: K8sSettings;
  /** The edge keys (JWKS with private keys) every unit mounts. */
  readonly edgeKeys: string;
}

/** The namespace, NATS (unless external), shared Secrets and policies, then a file per unit. */
export function k8sManifests({ app, settings, edgeKeys }: ManifestInput): ManifestFile[] {
  const units = deploymentUnits(app, settings.layout);
  for (const unit of units) {
    if (unit.name === NATS_NAME || unit.name === EDGE_KEYS_SECRET || unit.name === "default-deny") {
      throw FlotillaError.of(FlotillaCodes.CONFIG, `unit name "${unit.name}" is taken by the manifests' own objects`);
    }
  }
  const users = natsUsers(
    units.map((unit) => natsUnit(app, unit)),
    settings.registry ? { registryBucket: DEFAULT_BUCKET } : {},
  );
  const files: ManifestFile[] = [
    {
      file: "00-namespace.yaml",
      objects: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: settings.namespace } }],
    },
  ];
  if (settings.nats.kind === "statefulset") {
    files.push({ file: "01-nats.yaml", objects: [...natsObjects(settings, users), natsPolicy(settings)] });
  }
  files.push({ file: "02-shared.yaml", objects: [edgeKeysSecret(settings, edgeKeys), defaultDeny(settings)] });
  units.forEach((unit, i) => {
    files.push({ file: `${unit.name}.yaml`, objects: unitObjects(app, settings, unit, users[i]!) });
  });
  return files;
}

function unitObjects(app: FlotillaApp, settings: K8sSettings, unit: ResolvedUnit, user: NatsUser): K8sObject[] {
  const services = servicesOf(app, unit);
  const template = settings.databaseUrlTemplate;
  const databases = template === undefined ? {} : databaseUrls(services, template);
  const secret = unitSecret(settings, unit, user, databases);
  const ports = template === undefined || Object.keys(databases).length === 0 ? [] : [databasePort(template)];
  const scaler = autoscaler(settings, unit, consumerGroups(services));
  return [
    secret,
    deployment(settings, unit, ["FLOTILLA_TRANSPORT", ...Object.keys(databases)]),
    service(settings, unit),
    ...(scaler === undefined ? [] : [scaler]),
    unitPolicy(settings, unit, ports),
  ];
}

function natsUnit(app: FlotillaApp, unit: ResolvedUnit): NatsUnit {
  const services = servicesOf(app, unit);
  return unit.gateway ? { name: unit.name, services, gateway: gatewayNeeds(app) } : { name: unit.name, services };
}

function servicesOf(app: FlotillaApp, unit: ResolvedUnit) {
  return app.services.filter((s) => unit.services.includes(s.name));
}

/** The template's port, PostgreSQL's 5432 when it names none. */
function databasePort(template: string): number {
  return Number(new URL(template.replaceAll("{service}", "x").replaceAll("{password}", "x")).port || 5432);
}
