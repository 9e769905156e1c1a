import {
  action,
  type CallerVerifier,
  createHost,
  defineContract,
  defineService,
  event,
  FlotillaError,
  type Host,
  type Identity,
} from "@flotilla/core";
import { rejectionOf } from "@flotilla/testing";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { natsTransport } from "../src/index.js";
import { type Network, network } from "./helpers.js";

const Caller = z.object({ subject: z.string(), roles: z.array(z.string()) }).nullable();
const whoami = defineContract({
  service: "whoami",
  actions: {
    get: action({ input: z.object({}), output: z.object({ caller: Caller }) }),
    announce: action({ input: z.object({}), output: z.object({}) }),
  },
  events: { Announced: event({ schema: z.object({}) }) },
});

const seenByEvents: (Identity | undefined)[] = [];
const service = defineService(whoami, {
  actions: {
    get: (_input, ctx) => ({
      caller: ctx.caller ? { subject: ctx.caller.subject, roles: [...ctx.caller.roles] } : null,
    }),
    announce: async (_input, ctx) => {
      await ctx.emit(whoami.Announced, {});
      return {};
    },
  },
  subscriptions: {
    announced: { event: whoami.Announced, handle: async (_data, ctx) => void seenByEvents.push(ctx.caller) },
  },
});

/**
 * Stands in for the edge's key-based verifier (tested with real keys in @flotilla/auth): accepts the
 * proofs it issued, each valid until its expiry, and records the times it was asked about.
 */
class TableVerifier implements CallerVerifier {
  readonly asked: { proof: string; at: number }[] = [];
  private readonly issued = new Map<string, Identity>();

  issue(identity: Omit<Identity, "proof" | "expiresAt">, ttlMs = 60_000): Identity {
    const proof = `proof-${this.issued.size + 1}`;
    const full = { ...identity, proof, expiresAt: Date.now() + ttlMs };
    this.issued.set(proof, full);
    return full;
  }

  verify(proof: string, at: number): Identity {
    this.asked.push({ proof, at });
    const identity = this.issued.get(proof);
    if (identity === undefined || (identity.expiresAt ?? 0) < at) {
      throw FlotillaError.of({ code: "FLOTILLA_CALLER_UNVERIFIED", status: "UNAUTHENTICATED" }, "bad proof");
    }
    return identity;
  }
}

describe("callers over NATS: a signed proof or nothing", () => {
  let net: Network;
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
    await net?.close();
  });

  async function start(callers: CallerVerifier | undefined): Promise<{ server: Host; client: Host }> {
    net = await network();
    const options = { transport: net.server.url, transports: { nats: natsTransport } };
    const server = createHost({ ...options, services: [service], ...(callers ? { callers } : {}) });
    const client = createHost(options);
    hosts.push(client, server);
    await server.start();
    await client.start();
    return { server, client };
  }

  it("hands the verified caller to the handler and to the handlers of events it caused", async () => {
    const verifier = new TableVerifier();
    const { client } = await start(verifier);
    const caller = verifier.issue({ subject: "user-1", roles: ["customer"] });
    expect(await client.call(whoami.get, {}, { caller })).toEqual({
      caller: { subject: "user-1", roles: ["customer"] },
    });
    seenByEvents.length = 0;
    const before = Date.now();
    await client.call(whoami.announce, {}, { caller });
    await expect.poll(() => seenByEvents.length).toBe(1);
    expect(seenByEvents[0]).toMatchObject({ subject: "user-1", proof: caller.proof });
    // The event's caller was checked at the event's time, not at delivery.
    const eventCheck = verifier.asked.at(-1);
    expect(eventCheck?.at).toBeGreaterThanOrEqual(before - 1000);
  });

  it("sends no caller whose proof has expired, and none that has no proof", async () => {
    const verifier = new TableVerifier();
    const { client } = await start(verifier);
    const expired = verifier.issue({ subject: "user-1", roles: ["customer"] }, -1);
    expect(await client.call(whoami.get, {}, { caller: expired })).toEqual({ caller: null });
    const unsigned = { subject: "root", roles: ["admin"] };
    expect(await client.call(whoami.get, {}, { caller: unsigned })).toEqual({ caller: null });
  });

  it("refuses a request whose caller header a plain NATS client made up", async () => {
    const verifier = new TableVerifier();
    await start(verifier);
    const nc = await connect({ servers: net.server.url.replace("nats://", "") });
    try {
      for (const forged of [JSON.stringify({ subject: "root", roles: ["admin"] }), "proof-999"]) {
        const h = natsHeaders();
        h.set("flotilla-caller", forged);
        h.set("flotilla-timeout-ms", "2000");
        const reply = await nc.request("flotilla.rpc.whoami.get", JSON.stringify({}), { headers: h, timeout: 2000 });
        expect(reply.headers?.get("Nats-Service-Error-Code")).toBe("401");
        expect(reply.json()).toMatchObject({ code: "FLOTILLA_CALLER_UNVERIFIED", status: "UNAUTHENTICATED" });
      }
    } finally {
      await nc.close();
    }
  });

  it("refuses any caller when the host was given no keys to verify it with", async () => {
    const verifier = new TableVerifier();
    const { client } = await start(undefined);
    const caller = verifier.issue({ subject: "user-1", roles: ["customer"] });
    const err = await rejectionOf(() => client.call(whoami.get, {}, { caller }));
    expect(err).toMatchObject({ code: "FLOTILLA_CALLER_UNVERIFIED" });
  });
});
