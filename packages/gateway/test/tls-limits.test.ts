/**
 * The gateway's limits hold over TLS as they do over plain HTTP: oversized heads and bodies, slow heads and
 * handshakes that never finish, over HTTP/2 (node:http2) and HTTP/1.1 by ALPN (node:tls, raw bytes).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCa, makeServerCert, type TestCa } from "./support/certs.js";
import { connectH2, h2request } from "./support/h2-client.js";
import { startGateway, type TestGateway } from "./support/harness.js";

/** Raw HTTP/1.1 over TLS: writes `chunks` (with `gapMs` between them) and collects the answer until the server closes. */
function tlsExchange(url: string, ca: string, chunks: string[], gapMs = 0): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = tlsConnect({
      host: hostname,
      port: Number(port),
      ca,
      servername: "localhost",
      ALPNProtocols: ["http/1.1"],
    });
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      text += d;
    });
    socket.on("close", () => resolve(text));
    socket.on("error", (err) => (text === "" ? reject(err) : resolve(text)));
    socket.once("secureConnect", async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

const errorCodeOf = (body: string): string | undefined => {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

describe("the gateway's limits over TLS", () => {
  let dir: string;
  let ca: TestCa;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-tls-limits-"));
    ca = makeCa(dir);
    const cert = makeServerCert(ca, "limits");
    gw = await startGateway({
      tls: { certFile: cert.certFile, keyFile: cert.keyFile },
      maxHeaderBytes: 8 * 1024,
      bodyLimitBytes: 16 * 1024,
      headersTimeoutMs: 500,
      requestTimeoutMs: 1_000,
      accessLog: false,
    });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("HTTP/2: a body over the limit is a 413 in the gateway's error shape, and the session goes on", async () => {
    const session = await connectH2(gw.url, ca.pem);
    try {
      const big = JSON.stringify({ note: "x".repeat(64 * 1024) });
      const refused = await h2request(
        session,
        { ":method": "POST", ":path": "/inspect", "content-type": "application/json" },
        big,
      );
      expect(refused.status).toBe(413);
      expect(errorCodeOf(refused.body)).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
      const next = await h2request(session, { ":path": "/api/v1/products/p1" });
      expect(next.status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("HTTP/2: a header list over the limit is a 431 in the gateway's error shape, and the session goes on", async () => {
    const session = await connectH2(gw.url, ca.pem);
    try {
      const refused = await h2request(session, { ":path": "/api/v1/products/p1", "x-big": "a".repeat(16 * 1024) });
      // HTTP/2 only advertises the limit; the gateway measures the decoded list itself.
      expect(refused.status).toBe(431);
      expect(errorCodeOf(refused.body)).toBe("FLOTILLA_HEADERS_TOO_LARGE");
      const next = await h2request(session, { ":path": "/api/v1/products/p1" });
      expect(next.status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("HTTP/1.1 over TLS: a head over the limit is a 431 in the gateway's error shape", async () => {
    const answer = await tlsExchange(gw.url, ca.pem, [
      `GET /api/v1/products/p1 HTTP/1.1\r\nhost: localhost\r\nx-big: ${"a".repeat(16 * 1024)}\r\n\r\n`,
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(errorCodeOf(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toBe("FLOTILLA_HEADERS_TOO_LARGE");
  });

  it("HTTP/1.1 over TLS: a head trickled past the timeout is answered and closed", async () => {
    const started = Date.now();
    const answer = await tlsExchange(
      gw.url,
      ca.pem,
      [
        "GET /api/v1/products/p1 HTTP/1.1\r\n",
        "host: localhost\r\n",
        ...Array.from({ length: 40 }, (_, i) => `x-${i}: 1\r\n`),
      ],
      100,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorCodeOf(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toBe("FLOTILLA_REQUEST_TIMEOUT");
    // Closed by the gateway, well before the client would have finished trickling (4 s).
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("a TLS handshake that never finishes is cut off", async () => {
    const { hostname, port } = new URL(gw.url);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(Number(port), hostname, () => socket.write("\x16\x03\x01")); // a ClientHello's first bytes, then nothing
      socket.on("error", () => undefined);
      socket.on("close", () => resolve(true));
      setTimeout(() => {
        resolve(false);
        socket.destroy();
      }, 5_000).unref();
    });
    expect(closed).toBe(true);
  });
});
