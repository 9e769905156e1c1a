/** @module ADR-32 replies validated against the official schemas; discovery, stats and stopping. */
import { readFileSync } from "node:fs";
import { FlotillaError } from "@flotilla/core";
import { Empty, type NatsConnection, NoRespondersError } from "@nats-io/transport-node";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { type Network, network, request, serveDefaults } from "./helpers.js";

// Official ADR-32 schemas from nats-io/jsm.go (see fixtures/micro-v1/SOURCE.md).
const ajv = new Ajv({ allErrors: true });
// RFC 3339 date-time, what the stats schema's `format: date-time` means.
ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
const schema = (verb: string) => {
  const file = new URL(`./fixtures/micro-v1/${verb.toLowerCase()}_response.json`, import.meta.url);
  return ajv.compile(JSON.parse(readFileSync(file, "utf8")));
};
const validators = { PING: schema("PING"), INFO: schema("INFO"), STATS: schema("STATS") };

type Verb = keyof typeof validators;
type Reply = Record<string, unknown> & { id: string; endpoints?: Record<string, unknown>[] };

/**
 * Every reply to a `$SRV` request within a short window, each checked against its schema. Only "no
 * responders at all" counts as no reply; any other failure, a schema violation included, fails the test.
 */
async function discover(nc: NatsConnection, verb: Verb, ...target: string[]): Promise<Reply[]> {
  const subject = ["$SRV", verb, ...target].join(".");
  const bodies: Reply[] = [];
  try {
    for await (const msg of await nc.requestMany(subject, Empty, { strategy: "timer", maxWait: 300 })) {
      bodies.push(msg.json<Reply>());
    }
  } catch (err) {
    if (!(err instanceof NoRespondersError)) throw err; // nobody answers: no replies, not a failure
  }
  const validate = validators[verb];
  for (const body of bodies) {
    expect(validate(body), `${subject}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return bodies.sort((a, b) => a.id.localeCompare(b.id));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("nats transport: NATS Services API (ADR-32)", () => {
  let net: Network;
  afterEach(() => net?.close());

  it("has schemas that reject a reply of the wrong shape (the checks below are not vacuous)", () => {
    const ping = { type: "io.nats.micro.v1.ping_response", name: "greeter", id: "greeter-1", version: "1.2.3" };
    expect(validators.PING(ping)).toBe(true);
    expect(validators.PING({ ...ping, type: "io.nats.micro.v1.info_response" })).toBe(false);
    expect(validators.INFO(ping)).toBe(false);
    expect(validators.STATS(ping)).toBe(false);
  });

  it("answers $SRV.PING, INFO and STATS for all services, by name and by id, in the schemas' shapes", async () => {
    net = await network();
    const server = await net.connect();
    const actions = ["greeter.greet", "greeter.fail"];
    await server.serve({ service: "greeter", instance: "greeter-1", ...serveDefaults, version: "1.2.3", actions }, () =>
      Promise.resolve({}),
    );
    await server.serve({ service: "other", instance: "other-1", ...serveDefaults, version: "v2" }, () =>
      Promise.resolve({}),
    );
    const nc = (await net.connect()).connection!;

    expect((await discover(nc, "PING")).map((r) => r.id)).toEqual(["greeter-1", "other-1"]);
    expect(await discover(nc, "PING", "greeter")).toEqual([
      {
        type: "io.nats.micro.v1.ping_response",
        name: "greeter",
        id: "greeter-1",
        version: "1.2.3",
        metadata: { "flotilla.instance_subject": "flotilla.inst.greeter-1.greeter.>" },
      },
    ]);
    const [info] = await discover(nc, "INFO", "greeter", "greeter-1");
    expect(info).toMatchObject({ type: "io.nats.micro.v1.info_response", description: "" });
    expect(info?.endpoints).toEqual([
      {
        name: "greet",
        subject: "flotilla.rpc.greeter.greet",
        queue_group: "greeter",
        metadata: { "flotilla.instance_subject": "flotilla.inst.greeter-1.greeter.greet" },
      },
      {
        name: "fail",
        subject: "flotilla.rpc.greeter.fail",
        queue_group: "greeter",
        metadata: { "flotilla.instance_subject": "flotilla.inst.greeter-1.greeter.fail" },
      },
    ]);
    // A version that is not semver is announced as 0.0.0 and kept in the metadata; unknown actions, one endpoint.
    const [other] = await discover(nc, "INFO", "other");
    expect(other).toMatchObject({ version: "0.0.0", metadata: { "flotilla.version": "v2" } });
    expect(other?.endpoints).toMatchObject([{ name: "all", subject: "flotilla.rpc.other.>", queue_group: "other" }]);
    const stats = await discover(nc, "STATS");
    expect(stats.map((s) => [s.id, s.endpoints?.length])).toEqual([
      ["greeter-1", 2],
      ["other-1", 1],
    ]);
    expect(stats[0]).toMatchObject({ type: "io.nats.micro.v1.stats_response", version: "1.2.3" });
    expect(await discover(nc, "PING", "nobody")).toEqual([]);
  });

  it("lists a second instance, counts requests and errors per endpoint, and forgets a stopped instance", async () => {
    net = await network();
    const handler = async (req: { action: string }) => {
      await sleep(5);
      if (req.action === "greeter.fail") throw new FlotillaError("NOT_FOUND", "no such thing");
      return { ok: true };
    };
    const opts = { service: "greeter", ...serveDefaults, actions: ["greeter.greet", "greeter.fail"] };
    const first = await (await net.connect()).serve({ ...opts, instance: "greeter-1" }, handler);
    const second = await (await net.connect()).serve({ ...opts, instance: "greeter-2" }, handler);
    const client = await net.connect();
    const nc = client.connection!;
    expect((await discover(nc, "PING", "greeter")).map((r) => r.id)).toEqual(["greeter-1", "greeter-2"]);
    expect((await discover(nc, "INFO")).map((r) => r.id)).toEqual(["greeter-1", "greeter-2"]);

    const at = { instance: "greeter-1" };
    for (let i = 0; i < 3; i++) await client.request(request("greeter.greet", {}, at), { timeoutMs: 2_000 });
    for (let i = 0; i < 2; i++) {
      await client.request(request("greeter.fail", {}, at), { timeoutMs: 2_000 }).catch(() => undefined);
    }
    const [stats] = await discover(nc, "STATS", "greeter", "greeter-1");
    const [greet, fail] = stats?.endpoints ?? [];
    expect(greet).toMatchObject({ name: "greet", num_requests: 3, num_errors: 0, last_error: "" });
    expect(fail).toMatchObject({
      name: "fail",
      num_requests: 2,
      num_errors: 2,
      last_error: "NOT_FOUND: no such thing",
    });
    for (const e of [greet, fail]) {
      const total = e?.processing_time as number;
      expect(total).toBeGreaterThanOrEqual((e?.num_requests as number) * 5_000_000); // each handler slept 5 ms
      expect(e?.average_processing_time).toBe(Math.round(total / (e?.num_requests as number)));
    }
    expect(Date.parse(String(stats?.started))).toBeLessThanOrEqual(Date.now());
    const [idle] = await discover(nc, "STATS", "greeter", "greeter-2");
    expect(idle?.endpoints?.map((e) => e.num_requests)).toEqual([0, 0]);

    await second.close();
    expect((await discover(nc, "PING", "greeter")).map((r) => r.id)).toEqual(["greeter-1"]);
    await first.close();
    expect(await discover(nc, "PING")).toEqual([]);
    expect(await discover(nc, "INFO", "greeter", "greeter-1")).toEqual([]);
  });
});
