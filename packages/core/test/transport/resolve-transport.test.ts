import { describe, expect, it } from "vitest";
import { MemoryTransport } from "../../src/transport/memory-transport.js";
import { resolveTransport } from "../../src/transport/resolve-transport.js";

describe("resolveTransport", () => {
  it("makes in-process transports from memory:// URLs and passes instances through", () => {
    expect(resolveTransport("memory://")).toBeInstanceOf(MemoryTransport);
    expect(resolveTransport("memory://?faithful=1")).toBeInstanceOf(MemoryTransport);
    const given = new MemoryTransport();
    expect(resolveTransport(given)).toBe(given);
  });

  it("lets a memory factory replace the default in-process transport", () => {
    const made = new MemoryTransport();
    expect(resolveTransport("memory://?journal=off", { memory: () => made })).toBe(made);
  });

  it("uses the factory registered for a scheme", () => {
    const made = new MemoryTransport();
    let seen: URL | undefined;
    const t = resolveTransport("nats://10.0.0.1:4222", {
      nats: (url) => {
        seen = url;
        return made;
      },
    });
    expect(t).toBe(made);
    expect(seen?.host).toBe("10.0.0.1:4222");
  });

  it("refuses what it cannot resolve with FLOTILLA_CONFIG, naming the known schemes", () => {
    expect(() => resolveTransport("not a url")).toThrow(expect.objectContaining({ code: "FLOTILLA_CONFIG" }));
    expect(() => resolveTransport("kafka://broker:9092", { nats: () => new MemoryTransport() })).toThrow(
      /no transport for scheme "kafka" \(known: memory, nats\)/,
    );
  });
});
