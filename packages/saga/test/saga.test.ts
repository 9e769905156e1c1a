/** Sagas end to end on the in-process transport and SQLite: steps, retries, compensation, timeouts, versions. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, FlotillaError, type Host, MemoryTransport, type OrchestratorDefinition } from "@flotilla/core";
import { databaseProvider, sqliteDatabases } from "@flotilla/data";
import { sqliteDialect } from "@flotilla/data/internal";
import { waitFor } from "@flotilla/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSagaOrchestrator, type SagaFailure } from "../src/index.js";
import { TravelDesk, type TripInput, tripSagaV1, tripSagaV2, trips, tripsService } from "./support/trip.js";

const unavailable = () => new FlotillaError("UNAVAILABLE", "try later");
const trip = (id: string, over: Partial<TripInput> = {}): TripInput => ({
  tripId: id,
  from: "LIS",
  to: "OSL",
  nights: 2,
  amount: 300,
  ...over,
});

describe("sagas", () => {
  let dir: string;
  let desk: TravelDesk;
  let hosts: Host[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-saga-"));
    desk = new TravelDesk();
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(definitions = [tripSagaV1()], current = definitions[0]) {
    const { service, sagas } = tripsService(definitions, current as never);
    const host = createHost({
      services: [service, desk.service()],
      resources: [sqliteDatabases({ dataDir: dir })],
      transport: "memory://?faithful=1",
    });
    await host.start();
    hosts.push(host);
    const finished = (id: string) =>
      waitFor(
        async () => {
          const s = await host.call(trips.status, { id });
          return s.status !== "planned";
        },
        { what: `trip ${id} to finish` },
      ).then(() => host.call(trips.status, { id }));
    return { host, sagas, finished };
  }

  it("runs every step in order and finishes with the local effect in the same transaction", async () => {
    const { host, finished } = await start();
    expect(await host.call(trips.plan, trip("t1"))).toEqual({ started: true });
    expect(await finished("t1")).toEqual({ status: "booked", detail: "r-t1:payment" });
    expect(desk.calls).toEqual(["bookFlight", "bookHotel", "pay"]);
    expect(desk.flights.get("t1:flight")).toBe("LIS-OSL");
    expect(desk.hotels.get("t1:hotel")).toBe("OSLx2");
  });

  it("starts one saga per id, however often it is asked", async () => {
    const { host, finished } = await start();
    const answers = await Promise.all([host.call(trips.plan, trip("t2")), host.call(trips.plan, trip("t2"))]);
    expect(answers.filter((a) => a.started)).toHaveLength(1);
    await finished("t2");
    expect(desk.calls.filter((c) => c === "pay")).toHaveLength(1);
  });

  it("compensates finished steps in reverse order after a definite failure, and not the failed step", async () => {
    const { host, finished } = await start();
    await host.call(trips.plan, trip("t3", { amount: 5000 }));
    expect(await finished("t3")).toEqual({ status: "failed", detail: "NO_FUNDS" });
    expect(desk.cancelled).toEqual(["hotel:t3:hotel", "flight:t3:flight"]);
    expect(desk.flights.size + desk.hotels.size).toBe(0);
    expect(desk.calls.filter((c) => c === "pay")).toHaveLength(1);
  });

  it("counts its sagas by type, version and status, for metrics", async () => {
    const { host, sagas, finished } = await start();
    expect(isSagaOrchestrator(sagas)).toBe(true);
    expect(await sagas.counts()).toEqual([]);
    await host.call(trips.plan, trip("c1"));
    await host.call(trips.plan, trip("c2"));
    await host.call(trips.plan, trip("c3", { amount: 5000 }));
    for (const id of ["c1", "c2", "c3"]) await finished(id);
    const counts = await sagas.counts();
    // Statuses no saga is in read 0, so a status that empties is seen to.
    expect(counts.sort((a, b) => a.status.localeCompare(b.status))).toEqual([
      { type: "trip", version: 1, status: "compensated", count: 1 },
      { type: "trip", version: 1, status: "compensating", count: 0 },
      { type: "trip", version: 1, status: "completed", count: 2 },
      { type: "trip", version: 1, status: "failed", count: 0 },
      { type: "trip", version: 1, status: "running", count: 0 },
    ]);
  });

  it("a failure the contract declares is terminal at once; the step before it is undone", async () => {
    const { host, finished } = await start();
    await host.call(trips.plan, trip("t4", { to: "Atlantis" }));
    expect(await finished("t4")).toEqual({ status: "failed", detail: "CITY_FULL" });
    expect(desk.calls).toEqual(["bookFlight", "bookHotel", "cancelFlight"]);
  });

  it("retries a retryable failure with backoff, then goes on", async () => {
    desk.failNext.set("bookHotel", [unavailable(), unavailable()]);
    const { host, finished } = await start();
    await host.call(trips.plan, trip("t5"));
    expect(await finished("t5")).toEqual({ status: "booked", detail: "r-t5:payment" });
    expect(desk.calls.filter((c) => c === "bookHotel")).toHaveLength(3);
  });

  it("after the last attempt, compensates the ambiguous step too, and tells the hook what that found", async () => {
    desk.failNext.set("bookHotel", [unavailable(), unavailable(), unavailable(), unavailable()]);
    const failures: SagaFailure[] = [];
    const { host, finished } = await start([tripSagaV1({ turnedBack: (f) => failures.push(f) })]);
    await host.call(trips.plan, trip("t6"));
    expect(await finished("t6")).toEqual({ status: "failed", detail: "UNAVAILABLE" });
    expect(desk.calls.filter((c) => c === "bookHotel")).toHaveLength(4);
    expect(desk.cancelled).toEqual(["hotel:t6:hotel", "flight:t6:flight"]);
    // The hotel was never booked (each attempt failed before it): its cancellation found nothing.
    expect(failures).toEqual([
      expect.objectContaining({
        step: "hotel",
        ambiguous: true,
        undone: { hotel: { cancelled: false }, flight: { cancelled: true } },
      }),
    ]);
  });

  it("asks a step that cannot be undone again until it answers, past the last attempt and the deadline", async () => {
    // The payment is taken, but its answers are lost (as when the orchestrator or the participant dies
    // before the outcome is recorded): the failures are ambiguous, and nothing undoes a payment. Turning
    // back would cancel the trip with the money kept; asking again (keyed by step id) finds it was paid.
    desk.paidButUnanswered.set("t9:payment", 6);
    const { host, finished } = await start([tripSagaV1({ timeoutMs: 200 })]);
    await host.call(trips.plan, trip("t9"));
    expect(await finished("t9")).toEqual({ status: "booked", detail: "r-t9:payment" });
    expect(desk.calls.filter((c) => c === "pay")).toHaveLength(7); // 3 more than maxAttempts (4)
    expect(desk.payments.get("t9:payment")).toBe(300);
    expect(desk.cancelled).toEqual([]);
  });

  it("settles a command left from before a crash whose outcome comes before the orchestrator attaches", async () => {
    // An instance that died with a command in its outbox: written, never sent (its relay was off).
    const { service, sagas } = tripsService([tripSagaV1()], tripSagaV1());
    const before = createHost({
      services: [service],
      resources: [databaseProvider(sqliteDialect({ dataDir: dir }), { relay: false })],
      transport: "memory://?faithful=1",
    });
    await before.start();
    await before.call(trips.plan, trip("t10"));
    await before.stop();

    // The next instance's relay starts with its database and sends the command at once to the travel
    // desk (in a host of its own, already running); the outcome is back before the orchestrator has
    // attached (slowed down here), and must wait for it.
    const transport = new MemoryTransport({ faithful: true });
    await transport.connect();
    const travelHost = createHost({ services: [desk.service()], transport });
    await travelHost.start();
    hosts.push(travelHost);
    const slowly: OrchestratorDefinition = {
      ...sagas,
      attach: async (runtime) => {
        await waitFor(() => desk.calls.length > 0, { what: "the command to be carried out" });
        await new Promise((r) => setTimeout(r, 100));
        return sagas.attach(runtime);
      },
    };
    const after = createHost({
      services: [{ ...service, orchestrators: [slowly] }],
      resources: [sqliteDatabases({ dataDir: dir })],
      transport,
    });
    hosts.unshift(after);
    await after.start();
    await waitFor(async () => (await after.call(trips.status, { id: "t10" })).status !== "planned", {
      what: "trip t10 to finish",
    });
    expect(await after.call(trips.status, { id: "t10" })).toEqual({ status: "booked", detail: "r-t10:payment" });
    expect(desk.calls).toEqual(["bookFlight", "bookHotel", "pay"]); // each sent once: no outcome was lost
    for (const h of hosts.splice(0)) await h.stop();
    await transport.close();
  });

  it("retries a compensation until it succeeds", async () => {
    desk.failNext.set("cancelFlight", [unavailable(), new FlotillaError("INTERNAL", "bug, then fixed")]);
    const { host, finished } = await start();
    await host.call(trips.plan, trip("t7", { to: "Atlantis" }));
    expect(await finished("t7")).toEqual({ status: "failed", detail: "CITY_FULL" });
    expect(desk.calls.filter((c) => c === "cancelFlight")).toHaveLength(3);
    expect(desk.flights.size).toBe(0);
  });

  it("times out: compensates instead of taking the next step", async () => {
    desk.delayMs.set("bookHotel", 300);
    const { host, finished } = await start([tripSagaV1({ timeoutMs: 100 })]);
    await host.call(trips.plan, trip("t8"));
    expect(await finished("t8")).toEqual({ status: "failed", detail: "FLOTILLA_SAGA_TIMEOUT" });
    expect(desk.calls).not.toContain("pay");
    // Whatever was booked before the deadline (how far it got depends on the machine's speed) is undone.
    expect(desk.cancelled.at(-1)).toBe("flight:t8:flight");
    expect(desk.flights.size + desk.hotels.size).toBe(0);
  });

  it("finishes instances in flight on the version they started with, new ones on the new version", async () => {
    desk.delayMs.set("bookFlight", 400);
    const first = await start();
    await first.host.call(trips.plan, trip("v1-trip"));
    await waitFor(() => desk.calls.includes("bookFlight"), { what: "the v1 saga's first command" });
    await first.host.stop();
    hosts = hosts.filter((h) => h !== first.host);
    desk.delayMs.clear();

    // A build that forgot v1 refuses to start while a v1 saga is in flight.
    await expect(start([tripSagaV2()])).rejects.toThrow(/trip v1 \(1 in flight\)/);
    hosts.splice(0);

    const both = [tripSagaV1(), tripSagaV2()];
    const second = await start(both, both[1]);
    await second.host.call(trips.plan, trip("v2-trip"));
    expect(await second.finished("v1-trip")).toMatchObject({ status: "booked" });
    await second.finished("v2-trip");
    const listed = await second.host.call(trips.sagas, {});
    expect(
      listed.map((s: { id: string; version: number; status: string }) => [s.id, s.version, s.status]).sort(),
    ).toEqual([
      ["v1-trip", 1, "completed"],
      ["v2-trip", 2, "completed"],
    ]);
    // v1 booked the flight first, v2 the hotel first: each followed its own definition.
    const history = async (id: string) =>
      ((await second.host.call(trips.saga, { id })).history as { entry: string; step: string }[])
        .filter((h) => h.entry === "step-succeeded")
        .map((h) => h.step);
    expect(await history("v1-trip")).toEqual(["flight", "hotel", "payment"]);
    expect(await history("v2-trip")).toEqual(["hotel", "flight", "payment"]);
  });
});
