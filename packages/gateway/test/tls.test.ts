/**
 * TLS termination with real clients: HTTP/2 (node:http2) and HTTP/1.1 by ALPN (node:https), trusting a CA
 * made by openssl for this run; certificate rotation by replacing the files, and a broken replacement refused.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../src/index.js";
import { makeCa, makeServerCert, type ServerCert, type TestCa } from "./support/certs.js";
import { connectH2, h2request } from "./support/h2-client.js";
import { startGateway, type TestGateway } from "./support/harness.js";

/** The serial number of the certificate a new TLS connection is shown. */
function servedSerial(url: URL, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca, servername: "localhost" }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once("error", reject);
  });
}

describe("the gateway over TLS", () => {
  let dir: string;
  let ca: TestCa;
  let first: ServerCert;
  let live: { certFile: string; keyFile: string };
  let gw: TestGateway;
  const reloads: ("ok" | "failed")[] = [];
  const waiters: ((r: "ok" | "failed") => void)[] = [];
  /** Resolves on the next reload attempt that ends with `result`. */
  const nextReload = (result: "ok" | "failed") =>
    new Promise<void>((resolve) => {
      const waiter = (r: "ok" | "failed") => {
        if (r === result) resolve();
        else waiters.push(waiter);
      };
      waiters.push(waiter);
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-tls-"));
    ca = makeCa(dir);
    first = makeServerCert(ca, "first");
    live = { certFile: join(dir, "live.pem"), keyFile: join(dir, "live.key") };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    gw = await startGateway({
      tls: {
        ...live,
        reloadCheckMs: 20,
        onReload: (r) => {
          reloads.push(r);
          for (const w of waiters.splice(0)) w(r);
        },
      },
    });
  });
  afterAll(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("listens on https", () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("speaks HTTP/2 to a client offering h2", async () => {
    const session = await connectH2(gw.url, ca.pem);
    try {
      expect(session.alpnProtocol).toBe("h2");
      const res = await h2request(session, { ":path": "/api/v1/products/p1" });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ id: "p1" });
    } finally {
      session.close();
    }
  });

  it("speaks HTTP/1.1 to a client that offers only that", async () => {
    const answer = await new Promise<{ status: number; version: string; alpn: unknown; body: string }>(
      (resolve, reject) => {
        const req = httpsRequest(
          `${gw.url}/api/v1/products/p1`,
          { ca: ca.pem, ALPNProtocols: ["http/1.1"] } as RequestOptions,
          (res) => {
            const alpn = (res.socket as { alpnProtocol?: unknown }).alpnProtocol;
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => {
              body += c;
            });
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                version: res.httpVersion,
                alpn,
                body,
              }),
            );
          },
        );
        req.once("error", reject);
        req.end();
      },
    );
    expect(answer).toMatchObject({ status: 200, version: "1.1", alpn: "http/1.1" });
    expect(JSON.parse(answer.body)).toMatchObject({ id: "p1" });
  });

  it("refuses a client that does not trust its certificate", async () => {
    await expect(servedSerial(new URL(gw.url), "")).rejects.toThrow();
  });

  it("serves a replaced certificate to new connections while open ones keep working", async () => {
    const url = new URL(gw.url);
    expect(await servedSerial(url, ca.pem)).toBe(first.serial);
    const old = await connectH2(gw.url, ca.pem);
    try {
      const second = makeServerCert(ca, "second");
      const reloaded = nextReload("ok");
      copyFileSync(second.keyFile, live.keyFile);
      copyFileSync(second.certFile, live.certFile);
      await reloaded;
      expect(await servedSerial(url, ca.pem)).toBe(second.serial);
      expect(second.serial).not.toBe(first.serial);
      // The connection made before keeps its certificate and its requests.
      expect(
        (old.socket as unknown as { getPeerCertificate(): { serialNumber: string } }).getPeerCertificate().serialNumber,
      ).toBe(first.serial);
      expect((await h2request(old, { ":path": "/api/v1/products/p1" })).status).toBe(200);

      // A broken replacement is refused: the second certificate stays.
      const refused = nextReload("failed");
      writeFileSync(live.certFile, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
      await refused;
      expect(await servedSerial(url, ca.pem)).toBe(second.serial);
      expect(gw.logs.some((l) => l.msg === "TLS certificate refused, keeping the current one")).toBe(true);
      // So is a certificate with another certificate's key.
      const mismatched = nextReload("failed");
      copyFileSync(first.certFile, live.certFile);
      await mismatched;
      expect(await servedSerial(url, ca.pem)).toBe(second.serial);
      expect(reloads.filter((r) => r === "ok").length).toBeGreaterThanOrEqual(1);
    } finally {
      old.close();
    }
  });

  it("refuses to start with a key that is not the certificate's", async () => {
    const other = makeServerCert(ca, "other");
    expect(() =>
      createGateway({ host: gw.host, routes: [], tls: { certFile: first.certFile, keyFile: other.keyFile } }),
    ).toThrow(/not the key of the certificate/);
  });
});
