/** @module Starts real nats-server and PostgreSQL processes and talks raw protocol to them. */

import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { freePort, startNatsServer, startPostgres } from "../src/servers/index.js";
import { canConnect } from "../src/servers/process.js";

const run = promisify(execFile);
const SERVERS_INDEX = fileURLToPath(new URL("../src/servers/index.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** True while pid is a live process; orphaned zombies awaiting init's reaping count as gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Minimal raw NATS client: accumulates everything the server sends. */
function natsSession(port: number) {
  const socket = connect({ port, host: "127.0.0.1" });
  let received = "";
  let sid = 0;
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
  });
  return {
    send: (text: string) => socket.write(text),
    async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      await eventually(() => pattern.test(received), 5000);
      return received.match(pattern) as RegExpMatchArray;
    },
    /** Sends a request and returns the parsed JSON reply (JetStream API style). */
    async request(subject: string, body: string, inbox: string): Promise<Record<string, unknown>> {
      socket.write(`SUB ${inbox} ${++sid}\r\nPUB ${subject} ${inbox} ${Buffer.byteLength(body)}\r\n${body}\r\n`);
      const m = await this.waitFor(new RegExp(`MSG ${inbox} [^\\r\\n]*\\r\\n([^\\r\\n]*)\\r\\n`));
      return JSON.parse(m[1] ?? "null");
    },
    close: () => socket.destroy(),
  };
}

async function natsHandshake(port: number) {
  const session = natsSession(port);
  const info = JSON.parse((await session.waitFor(/^INFO (\{.*\}) *\r\n/))[1] ?? "{}");
  session.send('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
  await session.waitFor(/PONG\r\n/);
  return { session, info };
}

/** Runs `body` with TMPDIR pointed at a fresh private dir and returns what is left in it afterwards. */
async function leftoversIn(body: () => Promise<void>): Promise<string[]> {
  const [previous, dir] = [process.env.TMPDIR, mkdtempSync(join(tmpdir(), "servers-test-"))];
  process.env.TMPDIR = dir;
  try {
    await body();
    return readdirSync(dir);
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("freePort", () => {
  it("returns a bindable loopback port", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await canConnect(port)).toBe(false);
  });
});

describe("startNatsServer", { timeout: 30_000 }, () => {
  it("speaks NATS, survives a restart with its JetStream streams, and cleans up on stop", async () => {
    const nats = await startNatsServer();
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    const first = await natsHandshake(nats.port);
    expect(first.info).toMatchObject({ port: nats.port, jetstream: true });
    const created = await first.session.request(
      "$JS.API.STREAM.CREATE.ORDERS",
      JSON.stringify({ name: "ORDERS", subjects: ["orders.>"], storage: "file" }),
      "r1",
    );
    expect(created.error).toBeUndefined();
    expect(await first.session.request("orders.created", '{"id":1}', "r2")).toMatchObject({ stream: "ORDERS", seq: 1 });
    first.session.close();

    const oldPid = nats.pid;
    await nats.restart({ downtimeMs: 200 });
    expect(nats.pid).not.toBe(oldPid);
    expect(isRunning(oldPid)).toBe(false);
    const second = await natsHandshake(nats.port);
    const info = await second.session.request("$JS.API.STREAM.INFO.ORDERS", "", "r3");
    expect(info).toMatchObject({ config: { name: "ORDERS" }, state: { messages: 1 } });
    second.session.close();

    const { pid, storeDir, port } = nats;
    await nats.stop();
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
    expect(await canConnect(port)).toBe(false);
  });

  it("comes back after a crash (SIGKILL) on the same port", async () => {
    const nats = await startNatsServer({ jetstream: false });
    nats.kill("SIGKILL");
    await eventually(async () => !(await canConnect(nats.port)));
    await nats.restart();
    const { session, info } = await natsHandshake(nats.port);
    expect(info.jetstream).toBeFalsy();
    session.close();
    await nats.stop();
    expect(existsSync(nats.storeDir)).toBe(false);
  });

  it("fails clearly for a missing binary, bad flags, or a taken port", async () => {
    await expect(startNatsServer({ binary: "/nonexistent/nats-server" })).rejects.toThrow(
      /does not exist or is not executable/,
    );
    const leftovers = await leftoversIn(async () => {
      await expect(startNatsServer({ args: ["--no-such-flag"], startTimeoutMs: 3000 })).rejects.toThrow(
        /exited before becoming ready[\s\S]*no-such-flag/,
      );
      const nats = await startNatsServer({ jetstream: false });
      const taken = startNatsServer({ port: nats.port, startTimeoutMs: 3000 });
      await expect(taken).rejects.toThrow(/address already in use/);
      await nats.stop();
    });
    expect(leftovers).toEqual([]);
  });
});

describe("startPostgres", { timeout: 60_000 }, () => {
  const psql = (url: string, sql: string) =>
    run("psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).then((r) => r.stdout.trim());

  it("answers queries, creates databases, and cleans up on stop", async () => {
    const pg = await startPostgres();
    expect(pg.url).toBe(`postgres://${pg.user}@127.0.0.1:${pg.port}/postgres`);
    expect(await psql(pg.url, "select 1")).toBe("1");
    expect(await psql(pg.url, "show fsync")).toBe("off");

    const dbUrl = await pg.createDatabase("orders_test");
    expect(dbUrl).toBe(`postgres://${pg.user}@127.0.0.1:${pg.port}/orders_test`);
    expect(await psql(dbUrl, "select current_database()")).toBe("orders_test");
    await expect(pg.createDatabase("orders_test")).rejects.toThrow(/already exists/);
    await expect(pg.createDatabase("bad-name; drop")).rejects.toThrow(/invalid database name/);

    await pg.stop();
    expect(isRunning(pg.pid)).toBe(false);
    expect(existsSync(pg.dataDir)).toBe(false);
    expect(await canConnect(pg.port)).toBe(false);
  });

  it("fails clearly when the binaries are missing", async () => {
    await expect(startPostgres({ binDir: "/nonexistent" })).rejects.toThrow(
      /initdb\/postgres not found in "\/nonexistent"/,
    );
  });
});

describe("leak guard", { timeout: 60_000 }, () => {
  it("stops servers and removes temp dirs when the owning process is SIGKILLed", async () => {
    const script = `import { startNatsServer, startPostgres } from ${JSON.stringify(SERVERS_INDEX)};
      const n = await startNatsServer(); const p = await startPostgres();
      console.log(JSON.stringify({ pids: [n.pid, p.pid], dirs: [n.storeDir, p.dataDir] }));
      setInterval(() => {}, 1000);`;
    const nodeArgs = ["--import", "tsx", "--input-type=module", "-e", script];
    const owner = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve, reject) => {
      owner.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString()));
      owner.once("exit", (code) => reject(new Error(`owner exited early (${code})`)));
    });
    const { pids, dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
    expect(pids.every(isRunning)).toBe(true);
    owner.kill("SIGKILL");
    await eventually(() => !pids.some(isRunning) && !dirs.some((dir) => existsSync(dir)));
  });
});
