/**
 * @module `flotilla nats-config`: a nats-server configuration with one least-privilege user per
 * deployment unit, and each unit's transport URL in its own credentials file.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deploymentUnits, type FlotillaApp, LAYOUTS, type Layout } from "@flotilla/app";
import { isComposite, TRAFFIC_CHANGED } from "@flotilla/gateway";
import { type GatewayNeeds, type NatsUnit, natsServerConfig, natsUsers, natsUserUrl } from "@flotilla/nats";
import { DEFAULT_BUCKET } from "@flotilla/nats/internal";
import { loadApp } from "../load-app.js";
import { parseOptions, UsageError } from "../options.js";
import { NATS_CONFIG_USAGE } from "../usage.js";

/** The name that puts the gateway in a group: `--group edge=gateway`. */
export const GATEWAY_MEMBER = "gateway";

/** What an app's gateway calls (routes and policies) and follows (live push, cache invalidation). */
export function gatewayNeeds(app: FlotillaApp): GatewayNeeds {
  const gateway = app.gateway;
  const calls = new Set<string>();
  const events = new Set<string>();
  for (const route of gateway?.routes ?? []) {
    if (isComposite(route)) {
      for (const part of route.composition.parts.values()) if (part.action !== undefined) calls.add(part.action);
    } else {
      calls.add(route.action.fqn);
    }
    for (const rule of route.cache?.invalidateOn ?? []) events.add(rule.event.type);
  }
  const splits = Object.values(gateway?.splits ?? {});
  for (const split of splits) {
    if (split.kind !== "route") continue;
    // Proxy variants go to upstreams over HTTP; action variants are calls.
    for (const variant of Object.values(split.variants)) if (!("kind" in variant)) calls.add(variant.action.fqn);
  }
  for (const ref of gateway?.calls ?? []) calls.add(ref.fqn);
  for (const ref of gateway?.live?.events ?? []) events.add(ref.type);
  // Every gateway publishes and follows changes of traffic rules (docs/traffic.md).
  const emits = splits.length > 0 ? [TRAFFIC_CHANGED] : [];
  for (const type of emits) events.add(type);
  return { calls: [...calls], events: [...events], emits };
}

/**
 * The app's deployment units in `layout` (docs/deployment.md), regrouped by `groups` (`name` → members,
 * `gateway` naming the gateway): each group is a unit, taking its members out of their layout units,
 * and the layout's units follow with what is left (those left with nothing are dropped).
 */
export function appUnits(
  app: FlotillaApp,
  groups: ReadonlyMap<string, readonly string[]>,
  layout: Layout = "per-service",
): NatsUnit[] {
  const byName = new Map(app.services.map((s) => [s.name, s]));
  const placed = new Map<string, string>();
  const units: NatsUnit[] = [];
  for (const [name, members] of groups) {
    for (const member of members) {
      const other = placed.get(member);
      if (other !== undefined) throw new UsageError(`${member} is in both ${other} and ${name}`);
      if (member === GATEWAY_MEMBER && app.gateway === undefined) throw new UsageError(`${app.name} has no gateway`);
      if (member !== GATEWAY_MEMBER && !byName.has(member)) {
        throw new UsageError(`${app.name} has no service ${member} (it has ${[...byName.keys()].join(", ")})`);
      }
      placed.set(member, name);
    }
    units.push(unit(app, name, members, byName));
  }
  for (const layoutUnit of deploymentUnits(app, layout)) {
    const members = [...layoutUnit.services, ...(layoutUnit.gateway ? [GATEWAY_MEMBER] : [])].filter(
      (m) => !placed.has(m),
    );
    if (members.length === 0) continue;
    if (groups.has(layoutUnit.name)) {
      throw new UsageError(`group ${layoutUnit.name} has the name of a unit of the ${layout} layout`);
    }
    units.push(unit(app, layoutUnit.name, members, byName));
  }
  return units;
}

function unit(
  app: FlotillaApp,
  name: string,
  members: readonly string[],
  byName: Map<string, FlotillaApp["services"][number]>,
): NatsUnit {
  const services = members.flatMap((m) => byName.get(m) ?? []);
  return members.includes(GATEWAY_MEMBER) ? { name, services, gateway: gatewayNeeds(app) } : { name, services };
}

/** `edge=gateway` → `["edge", ["gateway"]]`. */
function parseGroup(value: string): [string, string[]] {
  const eq = value.indexOf("=");
  const members = value
    .slice(eq + 1)
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
  if (eq <= 0 || members.length === 0) throw new UsageError(`--group takes NAME=MEMBER[,MEMBER…], got "${value}"`);
  return [value.slice(0, eq), members];
}

export async function natsConfig(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    out: { type: "string" },
    credentials: { type: "string" },
    server: { type: "string" },
    "store-dir": { type: "string" },
    group: { type: "string", multiple: true },
    layout: { type: "string" },
    registry: { type: "boolean" },
    force: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(NATS_CONFIG_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const groups = new Map<string, string[]>();
  for (const value of values.group ?? []) {
    const [name, members] = parseGroup(value);
    if (groups.has(name)) throw new UsageError(`group ${name} is given twice`);
    groups.set(name, members);
  }
  if (values.layout !== undefined && !(LAYOUTS as readonly string[]).includes(values.layout)) {
    throw new UsageError(`--layout must be one of ${LAYOUTS.join(", ")}, got "${values.layout}"`);
  }
  // Groups regroup single services unless a layout is named; without groups, the app's own units.
  const layout = (values.layout ?? (groups.size > 0 ? "per-service" : "app")) as Layout;
  const given = values.server ?? "nats://127.0.0.1:4222";
  const address = given.includes("://") ? given : `nats://${given}`;
  const server = URL.canParse(address) ? new URL(address) : undefined;
  if (server?.protocol !== "nats:" || server.hostname === "") {
    throw new UsageError(`--server must be a nats:// URL or host:port, got "${given}"`);
  }
  const out = resolve(values.out ?? "nats.conf");
  const dir = resolve(values.credentials ?? "nats-credentials");
  if (!values.force && existsSync(out)) throw new UsageError(`${out} exists already; --force replaces it`);

  const app = await loadApp(values.app);
  const users = natsUsers(appUnits(app, groups, layout), values.registry ? { registryBucket: DEFAULT_BUCKET } : {});
  const port = Number(server.port || "4222");
  writeFileSync(
    out,
    natsServerConfig(users, { port, ...(values["store-dir"] ? { storeDir: values["store-dir"] } : {}) }),
    { mode: 0o600 },
  );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const user of users) {
    const file = join(dir, `${user.user}.env`);
    writeFileSync(file, `FLOTILLA_TRANSPORT=${natsUserUrl(user, server.href)}\n`, { mode: 0o600 });
  }
  console.log(`wrote ${out}: users ${users.map((u) => u.user).join(", ")}`);
  console.log(`wrote ${dir}/<user>.env: FLOTILLA_TRANSPORT for each unit's processes (keep both secret)`);
}
