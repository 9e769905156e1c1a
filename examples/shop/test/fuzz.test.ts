/**
 * Random hostile HTTP against the real shop (runApp, embedded): fast-check builds requests from the shop's
 * own routes with mutations (methods, paths, query strings, headers, credentials, content types, bodies),
 * and every answer must be one the gateway meant to give:
 * - a status below 500, or exactly 503 (load shedding, unavailability);
 * - every non-2xx answer (HEAD aside, which has no body) is the JSON error `{error:{code,message,traceId}}`,
 *   but for a 400 or 431 with `content-length: 0`: bytes Node cannot parse that are not a request's start
 *   (a head that overflows in a later read) no longer show its method, and a body would corrupt the answer
 *   to a HEAD (see the gateway's client-error.ts);
 * - an answer at all (no reset, no hang past 10 s);
 * and afterwards the shop still answers /healthz, and the heap grew by less than 64 MiB (heapUsed before and
 * after, each after a forced full GC; generous, as the shop's caches may keep some of what the requests left).
 *
 * FLOTILLA_RATE_LIMIT=1000000/60 keeps the rate limiter from deciding the answers. FUZZ_RUNS sets the number
 * of requests (default 500), FUZZ_SEED replays a run; a failure prints fast-check's shrunk counterexample
 * and its seed.
 */
import { request as httpRequest } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopRoutes } from "../src/routes.js";
import { type Answer, actionCounter, type CountedShop, rawExchange, startCountedShop } from "./support/attack.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

let shop: CountedShop;
let token = "";
let productId = "";

interface FuzzRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Buffer | undefined;
  chunked: boolean;
}

// --- arbitraries -------------------------------------------------------------------------------------

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"];
/** CONNECT turns the socket into a tunnel: a different protocol, not a request to fuzz. */
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METHODS) },
  {
    weight: 1,
    arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/).filter((m) => m.toUpperCase() !== "CONNECT"),
  },
);

const TEMPLATES = [...new Set([...shopRoutes.map((r) => r.path), "/healthz", "/readyz", "/"])];

const segment = fc.oneof(
  fc.string({ unit: "grapheme-ascii", maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.constantFrom("..", ".", "", "%2e%2e", "%2E%2e", "%2f", "%5c", "%00", "%zz", "%", "%c0%af", "%ff", "admin"),
  fc.constantFrom("users-online", "__proto__", "constructor", "prototype", "api-keys", "signing-keys", "rotate"),
  fc.uuid(),
  fc.constantFrom(1_000, 10_000, 70_000).map((n) => "a".repeat(n)),
);

/** Percent-encodes every character (as UTF-8), not only the ones URLs reserve. */
const encodeAll = (s: string) => [...Buffer.from(s, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");

const path = fc
  .record({
    template: fc.constantFrom(...TEMPLATES),
    id: segment,
    useRealId: fc.boolean(),
    mutations: fc.array(
      fc.record({
        kind: fc.constantFrom("insert", "replace", "encode", "encode-all", "drop", "trailing-slash", "double-slash"),
        at: fc.nat(),
        with: segment,
      }),
      { maxLength: 3 },
    ),
  })
  .map(({ template, id, useRealId, mutations }) => {
    const parts = template
      .split("/")
      .slice(1)
      .map((p) => (p.startsWith(":") ? (useRealId && productId ? productId : id) : p));
    for (const m of mutations) {
      const i = parts.length === 0 ? 0 : m.at % parts.length;
      if (m.kind === "insert") parts.splice(i, 0, m.with);
      else if (m.kind === "replace") parts[i] = m.with;
      else if (m.kind === "encode") parts[i] = encodeURIComponent(parts[i] ?? "");
      else if (m.kind === "encode-all") parts[i] = encodeAll(parts[i] ?? "");
      else if (m.kind === "drop") parts.splice(i, 1);
      else if (m.kind === "trailing-slash") parts.push("");
      else parts.splice(i, 0, "");
    }
    return `/${parts.join("/")}`;
  });

const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("-1", "0", "1e309", "NaN", "999999999999999999999", "[]", "{}", "null", "true", "%", "%zz"),
);
const query = fc.oneof(
  fc.constant(""),
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom("limit", "cursor", "q", "status", "access_token", "__proto__", "constructor[prototype]"),
          fc.string({ maxLength: 10 }),
        ),
        queryValue,
        fc.boolean(),
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map(
      (pairs) =>
        `?${pairs.map(([k, v, encode]) => (encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join("&")}`,
    ),
);

/** Characters Node's http client accepts in a header value: tab, visible ASCII, and bytes 0x80–0xff. */
const headerChar = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constantFrom(0x09, 0x80, 0xa0, 0xe9, 0xff) },
);
const headerValue = fc.string({ unit: headerChar.map((c) => String.fromCharCode(c)), maxLength: 120 });
const b64json = fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v)).toString("base64url"));
const jwtLike = fc
  .tuple(b64json, b64json, fc.base64String({ maxLength: 90 }))
  .map(([h, p, s]) => `${h}.${p}.${s.replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "")}`);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant("real"),
  jwtLike.map((t) => `Bearer ${t}`),
  headerValue,
  fc.constantFrom("Bearer", "Bearer ", "bearer x", "Basic YWRtaW46YWRtaW4=", "Bearer a.b.c", "Bearer ...."),
);
/** Headers that frame the message are the test's to set (a wrong Content-Length would only make the server wait). */
const FRAMING = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "host",
  "expect",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "proxy-connection",
]);
const headerName = fc
  .oneof(
    fc.constantFrom(
      "accept",
      "x-api-key",
      "idempotency-key",
      "x-correlation-id",
      "traceparent",
      "tracestate",
      "x-forwarded-for",
      "cookie",
      "origin",
      "flotilla-caller",
      "flotilla-timeout-ms",
      "accept-encoding",
      "range",
    ),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
  )
  .filter((n) => !FRAMING.has(n) && n !== "authorization" && n !== "content-type");
const contentType = fc.oneof(
  fc.constant(undefined),
  fc.constant("application/json"),
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin1",
    "APPLICATION/JSON",
    "application/json-patch+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
  ),
  headerValue,
);

/** JSON nested `depth` levels deep, in arrays or objects. */
const deepJson = fc
  .tuple(fc.integer({ min: 1, max: 200 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
  );
const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: deepJson },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{"email":"demo@flotilla.dev","password":"demo-password"}',
      '{"items":[{"productId":"x","quantity":1}],"payment":{"card":"4242424242424242"},"shipping":{}}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"a":1,"a":2}',
      "{",
      '{"a":"\\ud800"}',
      "nul\u0000l",
      "",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(64 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024).map((n) => `"${"x".repeat(n)}"`),
  },
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method,
    path,
    query,
    authorization,
    contentType,
    headers: fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 8, selector: ([n]) => n }),
    body,
    chunked: fc.boolean(),
  })
  .map((r) => {
    const headers: [string, string][] = [...r.headers];
    if (r.authorization !== undefined) {
      headers.push(["authorization", r.authorization === "real" ? `Bearer ${token}` : r.authorization]);
    }
    if (r.contentType !== undefined) headers.push(["content-type", r.contentType]);
    const payload = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
    const req: FuzzRequest = {
      method: r.method,
      path: `${r.path}${r.query}`,
      headers,
      body: payload,
      chunked: r.chunked,
    };
    // fast-check prints a counterexample with this: long runs of one character shortened, so it stays readable.
    Object.defineProperty(req, fc.toStringMethod, { value: () => describeRequest(req) });
    return req;
  });

function describeRequest(req: FuzzRequest): string {
  const short = (s: string) => s.replace(/(.)\1{31,}/gs, (run, c: string) => `${c}…(×${run.length})`);
  const body =
    req.body === undefined
      ? "none"
      : `${req.body.length} bytes${req.chunked ? " chunked" : ""}: ${JSON.stringify(short(req.body.toString("latin1").slice(0, 200)))}`;
  return `${req.method} ${JSON.stringify(short(req.path))} headers ${JSON.stringify(req.headers.map(([n, v]) => [n, short(v)]))} body ${body}`;
}

// --- sending -------------------------------------------------------------------------------------------

/** Sends with node:http (the path verbatim), or as raw bytes when node's client refuses what was generated. */
function send(req: FuzzRequest): Promise<Answer & { via: string }> {
  const { hostname, port } = new URL(shop.url);
  return new Promise((resolve) => {
    let client: ReturnType<typeof httpRequest>;
    try {
      client = httpRequest({
        host: hostname,
        port,
        method: req.method,
        path: req.path,
        headers: { ...Object.fromEntries(req.headers), ...framing(req) },
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch {
      resolve(sendRaw(req).then((a) => ({ ...a, via: "raw" })));
      return;
    }
    client.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8"), via: "http" });
      });
      res.on("error", (err) => resolve({ status: 0, headers: {}, body: "", error: err.message, via: "http" }));
    });
    client.on("timeout", () => client.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    client.on("error", (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, headers: {}, body: "", error: err.code ?? err.message, via: "http" }),
    );
    if (req.body !== undefined && req.chunked) {
      client.write(req.body);
      client.end();
    } else {
      client.end(req.body);
    }
  });
}

/**
 * Framing stated outright: Node's client frames a body only for methods it expects one on, and a GET's
 * unframed body would reach the server as a second, garbage request (the test's fault, not the gateway's).
 */
function framing(req: FuzzRequest): Record<string, string> {
  if (req.body === undefined) return {};
  return req.chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(req.body.length) };
}

function sendRaw(req: FuzzRequest): Promise<Answer> {
  // CR and LF would end the line early: the request's framing stays ours, everything else goes as generated.
  const clean = (s: string) => s.replace(/[\r\n]/g, "");
  const head =
    `${clean(req.method)} ${clean(req.path)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    req.headers.map(([n, v]) => `${clean(n)}: ${clean(v)}\r\n`).join("") +
    `Content-Length: ${req.body?.length ?? 0}\r\n\r\n`;
  const bytes = Buffer.concat([Buffer.from(head, "utf8"), req.body ?? Buffer.alloc(0)]);
  return rawExchange(shop.url, [bytes], { timeoutMs: REQUEST_TIMEOUT_MS });
}

/** Why an answer breaks the properties, or undefined. */
function problem(req: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status <= 0) return `no answer (${answer.error ?? "connection closed"})`;
  if (answer.status >= 500 && answer.status !== 503) return `status ${answer.status}`;
  if (answer.status >= 200 && answer.status < 300) return undefined;
  if (req.method === "HEAD") return undefined;
  const bodiless = answer.headers["content-length"] === "0" && answer.body === "";
  if ((answer.status === 400 || answer.status === 431) && bodiless) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return `status ${answer.status} with a body that is not JSON`;
  }
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  const shaped =
    typeof error === "object" &&
    error !== null &&
    typeof error.code === "string" &&
    typeof error.message === "string" &&
    typeof error.traceId === "string";
  return shaped ? undefined : `status ${answer.status} without the {error:{code,message,traceId}} shape`;
}

/**
 * heapUsed after a full GC. vitest cannot pass --expose-gc to one file, but V8 takes the flag at run time:
 * a context created after it has `gc`.
 */
function heapUsed(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

describe("random hostile HTTP against the shop", () => {
  const counter = actionCounter();

  beforeAll(async () => {
    shop = await startCountedShop(counter, { env: { FLOTILLA_RATE_LIMIT: "1000000/60" } });
    const login = await fetch(`${shop.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "demo@flotilla.dev", password: "demo-password" }),
    });
    token = ((await login.json()) as { token: string }).token;
    const products = (await (await fetch(`${shop.url}/api/v1/products?limit=1`)).json()) as { items: { id: string }[] };
    productId = products.items[0]?.id ?? "";
  }, 60_000);

  afterAll(async () => {
    await shop?.stop();
  });

  it(`answers ${RUNS} random requests as intended, and stays up with bounded memory`, async () => {
    const before = heapUsed();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (req) => {
        const answer = await send(req);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const why = problem(req, answer);
        if (why !== undefined) {
          throw new Error(`${why}; via ${answer.via}; body: ${answer.body.slice(0, 300)}`);
        }
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), verbose: 0 },
    );
    const health = await fetch(`${shop.url}/healthz`);
    expect(health.status).toBe(200);
    const growth = heapUsed() - before;
    console.log(
      `fuzz: ${RUNS} runs; statuses ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(" ")}; ` + `heap growth ${(growth / 1024 / 1024).toFixed(1)} MiB`,
    );
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);
  }, 180_000);
});
