import { describe, expect, it } from "vitest";
import { MemoryTransport } from "./memory-transport.js";
import { resolveTransport } from "./resolve-transport.js";

describe("resolveTransport", () => {
  it("makes in-process transports from memory:// URLs and passes instances through", () => {
    expect(resolveTransport("memory://")).toMatchObject({ name: "memory", passesObjects: true });
    expect(resolveTransport("memory://?faithful=1")).toMatchObject({ passesObjects: false });
    const given = new MemoryTransport();
    expect(resolveTransport(given)).toBe(given);
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
