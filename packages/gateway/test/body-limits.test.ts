/** @module Oversized uploads: the 413 comes before the body is read, and the client, still uploading, can read it. */
import { execFile } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ErrorJson,
  expectError,
  raw,
  rawErrorOf,
  startGateway,
  statusOf,
  type TestGateway,
} from "./support/harness.js";

const run = promisify(execFile);

const MiB = 1024 * 1024;
const UPLOAD = 12 * MiB;

const client = fileURLToPath(new URL("./support/upload-client.mjs", import.meta.url));

/** Uploads from another process, resolving with the answer it read or the error it got instead. */
async function upload(
  url: string,
  via: "fetch" | "http",
  framing: "length" | "chunked",
): Promise<{ status?: number; body?: string; error?: string }> {
  const { stdout } = await run(process.execPath, [client, `${url}/inspect`, via, framing, String(UPLOAD)]);
  return JSON.parse(stdout);
}

describe("oversized uploads", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ bodyLimitBytes: MiB });
  });
  afterAll(async () => {
    expect((await fetch(`${t.url}/api/v1/products/p1`)).status).toBe(200);
    await t.stop();
  });

  it.each([
    ["fetch", "length"],
    ["fetch", "chunked"],
    ["http", "length"],
    ["http", "chunked"],
  ] as const)("answers a 12 MiB upload (%s, %s) from another process with a readable 413", async (via, framing) => {
    const answer = await upload(t.url, via, framing);
    expect(answer.error).toBeUndefined();
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body ?? "") as { error: ErrorJson }).error).toMatchObject({
      code: "FLOTILLA_PAYLOAD_TOO_LARGE",
      details: { limit: MiB },
    });
  });

  it("refuses by Content-Length before reading the body, and closes the connection after", async () => {
    const res = await fetch(`${t.url}/inspect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.alloc(UPLOAD, 0x20),
    });
    expect((await expectError(res, 413, "FLOTILLA_PAYLOAD_TOO_LARGE")).details).toEqual({ limit: MiB });
    expect(res.headers.get("connection")).toBe("close");
  });

  it("refuses a declared body over the limit on any route, matched or not", async () => {
    const head = (path: string) =>
      `GET ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: ${UPLOAD}\r\nconnection: close\r\n\r\n`;
    for (const path of ["/api/v1/products/p1", "/no/such/route"]) {
      const response = await raw(t.url, head(path));
      expect(statusOf(response)).toBe(413);
      expect(rawErrorOf(response).code).toBe("FLOTILLA_PAYLOAD_TOO_LARGE");
    }
  });
});

/**
 * Announces a body of `length` bytes on a raw socket and collects the answer. Half-open, so it keeps
 * sending after the gateway's FIN, as a client busy uploading does.
 */
function startUpload(url: string, length: number): { socket: Socket; answer: () => string } {
  const { hostname, port } = new URL(url);
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
  socket.write(
    `POST /inspect HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`,
  );
  let answer = "";
  socket.on("data", (c: Buffer) => {
    answer += c.toString("latin1");
  });
  return { socket, answer: () => answer };
}

describe("the drain after a refused body is bounded", () => {
  it("closes the connection after lingerMs even if the client keeps sending", async () => {
    const t = await startGateway({ bodyLimitBytes: 1024, lingerMs: 200, lingerBytes: 1024 * MiB });
    try {
      const { socket, answer } = startUpload(t.url, 1024 * MiB);
      // Trickles the body, far slower than any limit would stop by bytes.
      const trickle = setInterval(() => socket.writable && socket.write("x".repeat(100)), 20);
      socket.on("error", () => {});
      const started = Date.now();
      await new Promise((resolve) => socket.once("close", resolve));
      clearInterval(trickle);
      expect(answer().startsWith("HTTP/1.1 413")).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await t.stop();
    }
  });

  it("closes the connection once lingerBytes more have arrived", async () => {
    const t = await startGateway({ bodyLimitBytes: 1024, lingerMs: 60_000, lingerBytes: 256 * 1024 });
    try {
      const { socket, answer } = startUpload(t.url, 1024 * MiB);
      socket.on("error", () => {});
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const flood = setInterval(() => socket.writable && socket.write(chunk), 5);
      await new Promise((resolve) => socket.once("close", resolve));
      clearInterval(flood);
      // Closed long before lingerMs: the byte bound ended the drain.
      expect(answer().startsWith("HTTP/1.1 413")).toBe(true);
      expect(socket.bytesWritten).toBeGreaterThan(256 * 1024);
    } finally {
      await t.stop();
    }
  }, 10_000);
});
