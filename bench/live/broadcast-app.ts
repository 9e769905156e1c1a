/**
 * @module The Flotilla side of the live fan-out benchmark: a minimal app of one service whose action
 * emits one announcement, pushed live to its audience, behind a gateway that authenticates bearer
 * tokens of a test issuer. Nothing else runs in it, so the gateway's memory and time are live push's.
 */

import { defineApp, type FlotillaApp } from "@flotilla/app";
import { createTokenVerifier, staticKeys } from "@flotilla/auth";
import { action, defineContract, defineService, EVERYONE, event } from "@flotilla/core";
import { authenticate, authenticated, route } from "@flotilla/gateway";
import { z } from "zod";
import { AUDIENCE, ISSUER, type TestKey } from "../../packages/auth/test/support/keys.js";
import { BROADCAST_PATH, BROADCAST_TEXT, LIVE_PATH, type LiveAudience, monotonicUs } from "./cases.js";

/** The one user every connection signs in as in the `one-user` audience. */
export const FANOUT_USER = "fanout-reader";

export interface BroadcastAppOptions {
  readonly audience: LiveAudience;
  /** The test issuer's public key: tokens signed with its private half are accepted. */
  readonly jwk: TestKey["jwk"];
  /** Live connections the gateway admits (per user as well: one user holds them all in `one-user`). */
  readonly maxConnections: number;
}

export function broadcastApp(options: BroadcastAppOptions): FlotillaApp {
  const announcements = defineContract({
    service: "announcements",
    actions: {
      broadcast: action({ input: z.object({ round: z.number().int().nonnegative() }), output: z.undefined() }),
    },
    events: {
      Announcement: event({
        schema: z.object({ round: z.number().int(), sentAtUs: z.number(), text: z.string() }),
        audience: () => (options.audience === "everyone" ? EVERYONE : FANOUT_USER),
      }),
    },
  });
  const service = defineService(announcements, {
    actions: {
      async broadcast({ round }, ctx) {
        await ctx.emit(announcements.Announcement, { round, sentAtUs: monotonicUs(), text: BROADCAST_TEXT });
      },
    },
  });
  const tokens = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: staticKeys({ keys: [options.jwk] }) }],
    // One verified token per connection stays cached: room for all of them.
    cache: { max: options.maxConnections + 16 },
  });
  return defineApp({
    name: "live-fanout",
    services: [service],
    gateway: {
      routes: [
        route({ method: "POST", path: BROADCAST_PATH, action: announcements.broadcast, policies: [authenticated()] }),
      ],
      policies: ({ edge }) => [authenticate({ tokens, edge })],
      live: {
        path: LIVE_PATH,
        events: [announcements.Announcement],
        maxConnections: options.maxConnections,
        maxConnectionsPerUser: options.audience === "one-user" ? options.maxConnections : 5,
      },
    },
  });
}
