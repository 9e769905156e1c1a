/** @module `flotilla traffic`: a gateway's traffic splits, listed and changed, and their comparison reports. */
import { parseOptions, UsageError } from "../options.js";
import { table } from "../table.js";

export const TRAFFIC_USAGE = `usage: flotilla traffic [--json] [options]
       flotilla traffic set SPLIT --weights V=N,… [--match RULE]… [--sticky user|none] [--shadow V[:PERCENT]] [options]
       flotilla traffic report SPLIT [--reset] [--json] [options]

Lists a gateway's traffic splits (variants, rules, where the rules came from), changes one split's rules
(every gateway applies the change), or prints this gateway's comparison report of shadow calls
(docs/traffic.md). Needs an admin's token.

  --weights V=N,…     percent per variant, summing to 100: legacy=90,service=10
  --match RULE        repeatable, tried in order: header:NAME=VALUE=VARIANT, tenant:T=VARIANT, user:U=VARIANT
  --sticky MODE       user (the default: each user stays on one variant) or none (a draw per request)
  --shadow V[:P]      also call variant V for P percent (100) of the reads another variant serves, and compare
  --reset             clear the report after printing it (each migration step gets a fresh one)
  --json              print the gateway's JSON answer
  --url URL           the gateway (default FLOTILLA_GATEWAY_URL, else http://localhost:8080)
  --token T           an admin's bearer token (default FLOTILLA_TOKEN)
`;

interface SplitView {
  name: string;
  kind: string;
  target: string;
  variants: Record<string, string> | string[];
  default: string;
  rules: {
    weights: Record<string, number>;
    match: unknown[];
    sticky: string;
    shadow?: { variant: string; percent: number };
  };
  origin: string;
  version: number;
  changedAt?: string;
  changedBy?: string;
}

interface Report {
  split: string;
  since: string;
  compared: number;
  equal: number;
  different: number;
  shadowFailed: number;
  dropped: number;
  differences: { at: string; method: string; path: string; paths: string[]; served: Side; shadow: Side }[];
}

interface Side {
  variant: string;
  status: number;
  body: string;
}

export async function traffic(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    url: { type: "string" },
    token: { type: "string" },
    weights: { type: "string" },
    match: { type: "string", multiple: true },
    sticky: { type: "string" },
    shadow: { type: "string" },
    reset: { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(TRAFFIC_USAGE);
    return;
  }
  const gateway = new GatewayClient(
    values.url ?? process.env.FLOTILLA_GATEWAY_URL ?? "http://localhost:8080",
    values.token ?? process.env.FLOTILLA_TOKEN,
  );
  const [verb, split, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  switch (verb) {
    case undefined: {
      const { splits } = (await gateway.send("GET", "/_flotilla/traffic")) as { splits: SplitView[] };
      print(values.json, splits, () => listing(splits));
      return;
    }
    case "set": {
      if (split === undefined) throw new UsageError("name the split to change");
      if (values.weights === undefined) throw new UsageError("--weights is required");
      const rules = {
        weights: weightsOf(values.weights),
        match: (values.match ?? []).map(matchOf),
        ...(values.sticky === undefined ? {} : { sticky: values.sticky }),
        ...(values.shadow === undefined ? {} : { shadow: shadowOf(values.shadow) }),
      };
      const view = (await gateway.send("PUT", `/_flotilla/traffic/${encodeURIComponent(split)}`, rules)) as SplitView;
      print(values.json, view, () => `${view.name}: version ${view.version}\n${listing([view])}`);
      return;
    }
    case "report": {
      if (split === undefined) throw new UsageError("name the split whose report to print");
      const path = `/_flotilla/traffic/${encodeURIComponent(split)}/report`;
      const report = (await gateway.send("GET", path)) as Report;
      print(values.json, report, () => reportText(report));
      if (values.reset) await gateway.send("DELETE", path);
      return;
    }
    default:
      throw new UsageError(`unknown action "${verb}"`);
  }
}

/** `legacy=90,service=10` → `{ legacy: 90, service: 10 }` (the gateway checks the rest). */
function weightsOf(value: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const part of value.split(",")) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m) throw new UsageError(`--weights: "${part}" is not VARIANT=PERCENT`);
    weights[m[1] as string] = Number(m[2]);
  }
  return weights;
}

/** `header:x-canary=1=service`, `tenant:acme=service`, `user:u-123=service`. */
function matchOf(value: string): Record<string, string> {
  const header = /^header:([^=]+)=(.*)=([^=]+)$/.exec(value);
  if (header) return { header: header[1] as string, value: header[2] as string, variant: header[3] as string };
  const other = /^(tenant|user):(.+)=([^=]+)$/.exec(value);
  if (other) return { [other[1] as string]: other[2] as string, variant: other[3] as string };
  throw new UsageError(`--match: "${value}" is not header:NAME=VALUE=VARIANT, tenant:T=VARIANT or user:U=VARIANT`);
}

function shadowOf(value: string): { variant: string; percent: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--shadow: "${value}" is not VARIANT[:PERCENT]`);
  return { variant: m[1] as string, percent: m[2] === undefined ? 100 : Number(m[2]) };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
}

function listing(splits: readonly SplitView[]): string {
  const rows = splits.map((s) => [
    s.name,
    s.kind,
    s.target,
    Object.entries(s.rules.weights)
      .map(([v, w]) => `${v}=${w}`)
      .join(","),
    String(s.rules.match.length),
    s.rules.sticky,
    s.rules.shadow ? `${s.rules.shadow.variant}:${s.rules.shadow.percent}` : "-",
    `${s.origin} v${s.version}${s.changedBy ? ` by ${s.changedBy}` : ""}`,
  ]);
  return table(["SPLIT", "KIND", "TARGET", "WEIGHTS", "MATCHES", "STICKY", "SHADOW", "RULES FROM"], rows);
}

function reportText(r: Report): string {
  const lines = [
    `${r.split} since ${r.since}: ${r.compared} compared, ${r.equal} equal, ${r.different} different, ` +
      `${r.shadowFailed} shadow failed, ${r.dropped} dropped`,
  ];
  for (const d of r.differences) {
    lines.push(
      "",
      `${d.at}  ${d.method} ${d.path}  ${d.served.variant} ${d.served.status} vs ${d.shadow.variant} ${d.shadow.status}`,
      `  differs at: ${d.paths.length > 0 ? d.paths.join(", ") : "status"}`,
      `  ${d.served.variant}: ${d.served.body}`,
      `  ${d.shadow.variant}: ${d.shadow.body}`,
    );
  }
  return lines.join("\n");
}

/** The gateway's admin routes over HTTP; an error answer becomes an error naming its code. */
class GatewayClient {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {}

  async send(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base), {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(`cannot reach the gateway at ${this.base}: ${(err as Error).cause ?? (err as Error).message}`);
    }
    const text = await res.text();
    const json = text === "" ? undefined : (JSON.parse(text) as unknown);
    if (!res.ok) {
      const error = (
        json as {
          error?: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } };
        }
      )?.error;
      const issues = error?.details?.issues?.map((i) => `\n  ${i.path || "rules"}: ${i.message}`).join("") ?? "";
      throw new TrafficCommandError(`${res.status} ${error?.code ?? ""}: ${error?.message ?? text}${issues}`);
    }
    return json;
  }
}

/** A refusal from the gateway: printed as it is, exit status 1. */
export class TrafficCommandError extends Error {
  override readonly name = "TrafficCommandError";
}
