/** @module The dashboard option of the gateway: its API behind the policies by default, open with `policies: []`. */
import type { Topology } from "@flotilla/dashboard";
import { afterEach, describe, expect, it } from "vitest";
import { expectError, startGateway, type TestGateway } from "./support/harness.js";

describe("the gateway's dashboard option", () => {
  let t: TestGateway | undefined;
  afterEach(() => t?.stop());

  it("is absent unless asked for", async () => {
    t = await startGateway();
    await expectError(await fetch(`${t.url}/_flotilla`), 404, "NOT_FOUND");
    await expectError(await fetch(`${t.url}/_flotilla/api/topology`), 404, "NOT_FOUND");
  });

  it("refuses its API to a caller no policy authenticated, by default", async () => {
    t = await startGateway({ dashboard: {} });
    await expectError(await fetch(`${t.url}/_flotilla/api/topology`), 401, "UNAUTHENTICATED");
    expect((await fetch(`${t.url}/_flotilla`)).status).toBe(200);
  });

  it("opens its API with `policies: []`, showing this process's services, with the request's trace headers", async () => {
    t = await startGateway({ dashboard: { policies: [] } });
    const res = await fetch(`${t.url}/_flotilla/api/topology`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    const topology = (await res.json()) as Topology;
    expect(topology.source).toBe("process");
    expect(topology.services.map((s) => [s.name, s.health])).toEqual(t.host.services.map((s) => [s, "up"]).sort());

    const stream = await fetch(`${t.url}/_flotilla/api/events`, { signal: AbortSignal.timeout(10_000) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    const reader = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: topology\ndata: ")) text += (await reader.read()).value ?? "";
    await reader.cancel();
  });
  it("ends its open event streams as the gateway closes", async () => {
    const gateway = await startGateway({ dashboard: { policies: [] } });
    const stream = await fetch(`${gateway.url}/_flotilla/api/events`);
    const reader = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: topology")) text += (await reader.read()).value ?? "";
    await gateway.stop();
    let ended = false;
    while (!ended) ended = (await reader.read()).done;
    expect(ended).toBe(true);
  });
});
