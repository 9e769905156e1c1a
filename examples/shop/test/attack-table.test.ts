/**
 * The attack table: hostile requests against the real shop (its services, routes and policies, run with
 * runApp), each answered with the expected refusal AND reaching no service action: a counting middleware
 * sits first in every service's action pipeline, and each case asserts it saw nothing.
 *
 * Three shops run in this file, all counted by one counter:
 * - `shop`: embedded, FLOTILLA_RATE_LIMIT=1000000/60 so the limiter never decides a case here;
 * - `limited`: embedded, FLOTILLA_RATE_LIMIT={"anonymous":{"limit":5,"windowSec":60}} for the
 *   X-Forwarded-For case alone (a limit that small would decide the other cases);
 * - `behind`: the services only, over a real nats-server, for callers a plain NATS client makes up.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { edgeSigner, loadEdgeKeys } from "@flotilla/auth";
import { type NatsServerHandle, startNatsServer } from "@flotilla/testing";
import { connect, type NatsConnection, headers as natsHeaders } from "@nats-io/transport-node";
import {
  type CryptoKey,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
} from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Answer,
  actionCounter,
  type CountedShop,
  errorCode,
  fetchAnswer,
  rawExchange,
  startCountedShop,
  verbatimRequest,
} from "./support/attack.js";
import {
  b64,
  compact,
  foreignAssertion,
  hmac,
  jwkBytes,
  now,
  readIssuerKey,
  signedBy,
} from "./support/forged-tokens.js";

interface Attack {
  name: string;
  send: () => Promise<Answer>;
  /** The expected status, or the acceptable ones. */
  status: number | readonly number[];
  code?: string;
  /** Extra evidence the case must leave (e.g. a key URL nobody fetched). */
  check?: () => void;
}

const counter = actionCounter();
let shop: CountedShop;
let limited: CountedShop;
let behind: CountedShop;
let nats: NatsServerHandle;
let nc: NatsConnection;

/** The demo user's real token, and what it is made of. */
let token: string;
let claims: JWTPayload;
let kid: string;
let publicJwk: JWK;
let publicPem: string;
/** The identity service's own signing key, read from its database: tokens that verify, but for their claims. */
let issuerKey: CryptoKey;
/** The attacker's own key pair. */
let attacker: { privateKey: CryptoKey; jwk: JWK };
/** A loopback server standing for the attacker's key URL: a `jku`/`x5u` the gateway follows would show here. */
let keyServer: Server;
let keyServerUrl: string;
const keyServerHits: string[] = [];

/** The demo user's claims, fresh, with changes. */
function demoClaims(changes: JWTPayload = {}): JWTPayload {
  return { ...claims, iat: now(), nbf: now(), exp: now() + 600, jti: randomBytes(8).toString("hex"), ...changes };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const me = (t: string) => fetchAnswer(`${shop.url}/api/v1/me`, { headers: bearer(t) });
const myOrders = (t: string) => fetchAnswer(`${shop.url}/api/v1/orders`, { headers: bearer(t) });

/** A request on the broker, as a process on its network could send it; the reply as an Answer. */
async function natsCall(subject: string, caller: string): Promise<Answer> {
  const h = natsHeaders();
  h.set("flotilla-caller", caller);
  h.set("flotilla-timeout-ms", "3000");
  const reply = await nc.request(subject, JSON.stringify({}), { headers: h, timeout: 3_000 });
  const body = reply.string();
  return {
    status: Number(reply.headers?.get("Nats-Service-Error-Code") || 200),
    headers: {},
    // The transport's error body is the error itself; wrapped so errorCode() reads it like an HTTP one.
    body: JSON.stringify({ error: JSON.parse(body || "{}") }),
  };
}

const UNAUTHENTICATED = 401;
const adminCaller = JSON.stringify({ subject: "admin", roles: ["admin"], tier: "premium" });

const attacks: Attack[] = [
  // --- forged and tampered tokens -----------------------------------------------------------------
  ...["none", "None", "NONE", "nOnE"].map(
    (alg): Attack => ({
      name: `alg "${alg}" with the demo user's claims`,
      send: () => me(compact({ alg, typ: "JWT", kid }, demoClaims())),
      status: UNAUTHENTICATED,
      code: "FLOTILLA_TOKEN_INVALID",
    }),
  ),
  ...(
    [
      ["the JWK as JSON", () => Buffer.from(JSON.stringify(publicJwk))],
      ["the raw x||y bytes", () => Buffer.concat([jwkBytes(publicJwk.x), jwkBytes(publicJwk.y)])],
      [
        "the uncompressed point 04||x||y",
        () => Buffer.concat([Buffer.of(4), jwkBytes(publicJwk.x), jwkBytes(publicJwk.y)]),
      ],
      ["the PEM", () => Buffer.from(publicPem)],
    ] as const
  ).map(
    ([what, secret]): Attack => ({
      name: `HS256 keyed with the issuer's public key: ${what}`,
      send: () => me(compact({ alg: "HS256", typ: "JWT", kid }, demoClaims(), hmac(secret()))),
      status: UNAUTHENTICATED,
      code: "FLOTILLA_TOKEN_INVALID",
    }),
  ),
  ...["../../../../etc/passwd", "/dev/null", "x' OR '1'='1", "kid; rm -rf /"].map(
    (evil): Attack => ({
      name: `kid ${JSON.stringify(evil)}`,
      send: () => me(compact({ alg: "ES256", typ: "JWT", kid: evil }, demoClaims(), hmac(""))),
      status: UNAUTHENTICATED,
      code: "FLOTILLA_TOKEN_INVALID",
    }),
  ),
  {
    name: 'kid "/dev/null" with HS256 and an empty secret (the file\'s contents)',
    send: () => me(compact({ alg: "HS256", typ: "JWT", kid: "/dev/null" }, demoClaims(), hmac(""))),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  ...(["jku", "x5u"] as const).map(
    (name): Attack => ({
      name: `"${name}" pointing at the attacker's key server (which must see no request)`,
      send: async () =>
        me(await signedBy(attacker.privateKey, { kid: "attacker", [name]: `${keyServerUrl}/keys` }, demoClaims())),
      status: UNAUTHENTICATED,
      code: "FLOTILLA_TOKEN_INVALID",
      check: () => expect(keyServerHits).toEqual([]),
    }),
  ),
  {
    name: "an embedded jwk: the attacker's public key, signed with its private key",
    send: async () => me(await signedBy(attacker.privateKey, { kid, jwk: attacker.jwk }, demoClaims())),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "the attacker's key under the issuer's kid",
    send: async () => me(await signedBy(attacker.privateKey, { kid }, demoClaims())),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "expired an hour ago (signed by the issuer's own key)",
    send: async () =>
      myOrders(
        await signedBy(issuerKey, { kid }, demoClaims({ iat: now() - 4_500, nbf: now() - 4_500, exp: now() - 3_600 })),
      ),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_EXPIRED",
  },
  {
    name: "not valid for another 5 minutes, beyond the 30 s skew (issuer's key)",
    send: async () => myOrders(await signedBy(issuerKey, { kid }, demoClaims({ nbf: now() + 300, exp: now() + 900 }))),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_NOT_YET_VALID",
  },
  {
    name: "wrong iss (issuer's key)",
    send: async () => me(await signedBy(issuerKey, { kid }, demoClaims({ iss: "https://evil.example" }))),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "iss with a trailing slash (issuer's key)",
    send: async () => me(await signedBy(issuerKey, { kid }, demoClaims({ iss: `${claims.iss}/` }))),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "wrong aud (issuer's key)",
    send: async () => me(await signedBy(issuerKey, { kid }, demoClaims({ aud: "other-api" }))),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "a real token's payload changed (sub, roles), its signature kept",
    send: () => {
      const [header, , signature] = token.split(".");
      return me(`${header}.${b64({ ...claims, sub: "someone-else", roles: ["admin"] })}.${signature}`);
    },
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    name: "a real token with one signature character changed",
    send: () => {
      const [header, payload, signature = ""] = token.split(".");
      const i = 10; // a middle character: the last one may only carry padding bits
      const flipped = `${signature.slice(0, i)}${signature[i] === "A" ? "B" : "A"}${signature.slice(i + 1)}`;
      return me(`${header}.${payload}.${flipped}`);
    },
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },
  {
    // No shop route accepts ?access_token= (none is a live-updates route), so the parameter alone is refused.
    name: "two differing tokens: Bearer (real) and ?access_token= (forged)",
    send: async () =>
      fetchAnswer(
        `${shop.url}/api/v1/me?access_token=${await signedBy(attacker.privateKey, { kid }, demoClaims({ sub: "x" }))}`,
        { headers: bearer(token) },
      ),
    status: 400,
    code: "FLOTILLA_QUERY_TOKEN_NOT_ALLOWED",
  },
  {
    name: "Bearer (real) and X-API-Key together",
    send: () =>
      fetchAnswer(`${shop.url}/api/v1/me`, { headers: { ...bearer(token), "x-api-key": `flk_x_${"a".repeat(43)}` } }),
    status: 400,
    code: "FLOTILLA_CREDENTIALS_CONFLICT",
  },
  {
    name: "an edge assertion (signed with the app's real edge key) as a Bearer token",
    send: async () => me(await realEdgeAssertion()),
    status: UNAUTHENTICATED,
    code: "FLOTILLA_TOKEN_INVALID",
  },

  // --- internal headers from outside ---------------------------------------------------------------
  {
    name: "flotilla-caller: an admin identity as JSON, on an admin route",
    send: () => fetchAnswer(`${shop.url}/api/v1/admin/users-online`, { headers: { "flotilla-caller": adminCaller } }),
    status: UNAUTHENTICATED,
  },
  {
    name: "flotilla-caller: a valid edge assertion for an admin (the app's real edge key), on an admin route",
    send: async () =>
      fetchAnswer(`${shop.url}/api/v1/admin/users-online`, {
        headers: { "flotilla-caller": await realEdgeAssertion() },
      }),
    status: UNAUTHENTICATED,
  },

  // --- the HTTP layer --------------------------------------------------------------------------------
  {
    name: "a 12 MiB body (413, readable by fetch, not a reset)",
    send: () =>
      fetchAnswer(`${shop.url}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "big@example.com", password: "x".repeat(12 * 1024 * 1024), name: "Big" }),
      }),
    status: 413,
    code: "FLOTILLA_PAYLOAD_TOO_LARGE",
  },
  {
    name: "a 64 KiB header",
    send: () => fetchAnswer(`${shop.url}/api/v1/me`, { headers: { "x-big": "a".repeat(64 * 1024) } }),
    status: 431,
    code: "FLOTILLA_HEADERS_TOO_LARGE",
  },
  {
    // Found by fuzz.test.ts: an answer written before the request is parsed must still have no body for HEAD,
    // or a client reads the body as the next answer (node:http: HPE_CLOSED_CONNECTION, "Data after Connection: close").
    name: "HEAD with a 20 KiB path (431, read by node:http)",
    send: () => verbatimRequest(shop.url, `/api/v1/products/${"a".repeat(20 * 1024)}`, { method: "HEAD" }),
    status: 431,
  },
  {
    // A head that overflows only in a later read: the bytes Node hands over no longer show the method, so
    // the answer has no body at all (one that a HEAD client would misread), and says so.
    name: "HEAD whose 20 KiB path arrives in three writes (431 with content-length 0)",
    send: async () => {
      const path = `/api/v1/products/${"a".repeat(10 * 1024)}`;
      const answer = await rawExchange(
        shop.url,
        ["HEAD ", path, `${"a".repeat(10 * 1024)} HTTP/1.1\r\nHost: shop\r\n\r\n`],
        { gapMs: 50 },
      );
      expect(answer.headers["content-length"]).toBe("0");
      expect(answer.body).toBe("");
      return answer;
    },
    status: 431,
  },
  {
    name: "500 headers",
    send: () =>
      fetchAnswer(`${shop.url}/api/v1/me`, {
        headers: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h-${i}`, "1"])),
      }),
    status: 431,
    code: "FLOTILLA_HEADERS_TOO_LARGE",
  },
  {
    name: "Content-Length with Transfer-Encoding (smuggling a second request)",
    send: () =>
      rawExchange(shop.url, [
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n" +
          "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
          "GET /api/v1/admin/users-online HTTP/1.1\r\nHost: shop\r\n\r\n",
      ]),
    status: 400,
  },
  {
    name: "two differing Content-Length headers",
    send: () =>
      rawExchange(shop.url, [
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n" +
          'Content-Length: 2\r\nContent-Length: 45\r\n\r\n{"email":"demo@flotilla.dev","password":"x"}',
      ]),
    status: 400,
  },
  ...[
    "/api/v1/products/..%2f..%2fadmin%2fusers-online",
    "/api/v1/products/..%2F..%2Fme",
    "/api/v1/products/%2e%2e/%2e%2e/admin/users-online",
    "/api/v1/products/%2E%2E/%2E%2E/admin/users-online",
    "/api/v1/admin/../admin/users-online",
    "/api/v1/admin/./users-online",
    "/api/v1/products/../admin/users-online",
    "//api/v1/admin/users-online",
    "/api/v1//admin/users-online",
    "/api/v1/admin%2fusers-online",
    "/api/v1/products/..%5c..%5cadmin%5cusers-online",
  ].map(
    (path): Attack => ({
      name: `path ${path}, no credentials`,
      send: () => verbatimRequest(shop.url, path),
      // 400 (refused as a path) or 404 (no route): never the admin route, never a product lookup.
      status: [400, 404],
    }),
  ),
  {
    name: "X-Forwarded-For rotated on every request does not escape the anonymous limit (5/60 s)",
    send: async () => {
      const send = (i: number) =>
        fetchAnswer(`${limited.url}/api/v1/me`, { headers: { "x-forwarded-for": `203.0.113.${i}` } });
      for (let i = 1; i <= 5; i++) {
        const answer = await send(i);
        // Within the limit: the route's own refusal (no credentials), still no service reached.
        if (answer.status !== 401) return answer;
      }
      return send(6);
    },
    status: 429,
    code: "FLOTILLA_RATE_LIMITED",
  },
  {
    // The gateway's head timeout (headersTimeoutMs, 10 s by default) is not configurable from the shop:
    // the client must be cut off within it plus Node's check interval and a margin.
    name: "a client sending its head one byte a second is cut off within 15 s",
    send: () => {
      const head = "GET /api/v1/me HTTP/1.1\r\nHost: shop\r\nX-Slow: ";
      const trickle = [head, ..."abcdefghijklmnopqrstuvwxyz"];
      return rawExchange(shop.url, trickle, { gapMs: 1_000, timeoutMs: 15_000 });
    },
    status: 408,
    code: "FLOTILLA_REQUEST_TIMEOUT",
  },

  // --- behind the edge: a plain NATS client with a made-up caller -------------------------------------
  ...(
    [
      ["identity.me", "an admin identity as JSON", () => adminCaller],
      ["orders.listOrders", "an admin identity as JSON", () => adminCaller],
      ["identity.me", "a random string", () => randomBytes(24).toString("base64url")],
      ["orders.listOrders", "a random string", () => randomBytes(24).toString("base64url")],
      ["identity.me", "an assertion signed by a key that is not the edge key", () => foreignAssertion(behind.dataDir)],
      [
        "orders.listOrders",
        "an assertion signed by a key that is not the edge key",
        () => foreignAssertion(behind.dataDir),
      ],
    ] as const
  ).map(
    ([action, what, caller]): Attack => ({
      name: `NATS flotilla.rpc.${action} with flotilla-caller: ${what}`,
      send: async () => natsCall(`flotilla.rpc.${action}`, await caller()),
      status: UNAUTHENTICATED,
      code: "FLOTILLA_CALLER_UNVERIFIED",
    }),
  ),
];

/** A genuine assertion for an admin, made with the shop's own edge key (as its gateway would sign one). */
async function realEdgeAssertion(): Promise<string> {
  const keys = await loadEdgeKeys(join(shop.dataDir, "edge-keys.json"));
  const signed = await edgeSigner(keys).sign({ subject: "admin", roles: ["admin"], tier: "premium" });
  return signed.proof as string;
}

interface Outcome {
  name: string;
  /** The expected status (and code) was observed and no service action ran. */
  asExpected: boolean;
  reached: readonly string[];
}
const outcomes: Outcome[] = [];

describe("the attack table", () => {
  beforeAll(async () => {
    keyServer = createServer((req, res) => {
      keyServerHits.push(`${req.method} ${req.url}`);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [attacker.jwk] }));
    });
    await new Promise<void>((r) => keyServer.listen(0, "127.0.0.1", r));
    keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;

    nats = await startNatsServer({ jetstream: true });
    // One after another: each reads process.env as its gateway is built, so their environments must not overlap.
    shop = await startCountedShop(counter, { env: { FLOTILLA_RATE_LIMIT: "1000000/60" } });
    limited = await startCountedShop(counter, {
      env: { FLOTILLA_RATE_LIMIT: JSON.stringify({ anonymous: { limit: 5, windowSec: 60 } }) },
    });
    behind = await startCountedShop(counter, { transport: nats.url, gateway: false });
    nc = await connect({ servers: nats.url.replace("nats://", "") });

    // Everything below reaches the identity service; that is why it is set-up, not a case.
    const login = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "demo@flotilla.dev", password: "demo-password" }),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { token: string }).token;
    claims = decodeJwt(token);
    kid = decodeProtectedHeader(token).kid as string;
    const jwks = (await (await fetch(`${shop.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    publicJwk = jwks.keys.find((k) => k.kid === kid) as JWK;
    publicPem = await exportSPKI((await importJWK(publicJwk, "ES256")) as CryptoKey);
    issuerKey = await readIssuerKey(shop.dataDir, kid);
    // The real token works (and the gateway now holds the issuer's keys, so no case triggers a fetch).
    expect((await me(token)).status).toBe(200);
    const pair = await generateKeyPair("ES256", { extractable: true });
    attacker = {
      privateKey: pair.privateKey,
      jwk: { ...(await exportJWK(pair.publicKey)), kid: "attacker", alg: "ES256" },
    };
  }, 90_000);

  afterAll(async () => {
    const rejected = outcomes.filter((o) => o.asExpected).length;
    const reached = outcomes.filter((o) => o.reached.length > 0).length;
    console.log(`attack table: ${rejected}/${outcomes.length} rejected as expected, ${reached} reached a service`);
    for (const o of outcomes.filter((o) => !o.asExpected || o.reached.length > 0)) {
      console.log(`  not as expected: ${o.name}${o.reached.length ? ` (reached ${o.reached.join(", ")})` : ""}`);
    }
    await nc?.close();
    await Promise.all([shop?.stop(), limited?.stop(), behind?.stop()]);
    await nats?.stop();
    await new Promise((r) => keyServer?.close(r));
  });

  beforeEach(() => counter.reset());

  it.each(attacks)("$name", async (attack) => {
    const answer = await attack.send();
    const expected = typeof attack.status === "number" ? [attack.status] : attack.status;
    const code = errorCode(answer);
    const reached = [...counter.calls];
    outcomes.push({
      name: attack.name,
      asExpected:
        expected.includes(answer.status) && (attack.code === undefined || code === attack.code) && reached.length === 0,
      reached,
    });
    expect(answer.status, `status (connection error: ${answer.error ?? "none"})`).toBeOneOf([...expected]);
    if (attack.code !== undefined) expect(code).toBe(attack.code);
    expect(reached, "service actions that ran").toEqual([]);
    attack.check?.();
  });
});
