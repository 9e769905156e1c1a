/** @module A proxy route behind TLS and HTTP/2: pseudo-headers never reach the upstream, the hop says https, bodies stream. */
import { mkdtempSync, rmSync } from "node:fs";
import { type ClientHttp2Session, connect as h2connect } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxy } from "../../src/index.js";
import { makeCa, makeServerCert, type TestCa } from "../support/certs.js";
import { h2request } from "../support/h2-client.js";
import { type ProxyGateway, startProxyGateway } from "./support/proxy-gateway.js";
import { startTestUpstream, type TestUpstream } from "./support/test-upstream.js";

describe("proxy routes over HTTP/2", () => {
  let dir: string;
  let ca: TestCa;
  let upstream: TestUpstream;
  let t: ProxyGateway;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-proxy-h2-"));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, "gateway");
    upstream = await startTestUpstream("a");
    t = await startProxyGateway(
      { legacy: { targets: [upstream.url] } },
      [proxy({ path: "/echo/*", methods: ["GET", "POST"], upstream: "legacy" })],
      { tls: { certFile: cert.certFile, keyFile: cert.keyFile } },
    );
    session = await new Promise((resolve, reject) => {
      const s = h2connect(t.url, { ca: ca.pem });
      s.once("connect", () => resolve(s));
      s.once("error", reject);
    });
  });
  afterAll(async () => {
    session.close();
    await t.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("forwards over HTTP/1.1 with the client's authority and https in Forwarded, and no pseudo-headers", async () => {
    const authority = new URL(t.url).host;
    const res = await h2request(session, { ":path": "/echo/h2?x=1", ":authority": authority });
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    expect(echo.url).toBe("/echo/h2?x=1");
    expect(Object.keys(echo.headers).filter((n) => n.startsWith(":"))).toEqual([]);
    expect(echo.headers.forwarded).toBe(`for=127.0.0.1;proto=https;host="${authority}"`);
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers.host).toBe(new URL(upstream.url).host);
  });

  it("streams a request body sent over HTTP/2", async () => {
    const body = "b".repeat(100_000);
    const res = await h2request(session, { ":path": "/echo/upload", ":method": "POST" }, body);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { body: string }).body.length).toBe(body.length);
  });
});
