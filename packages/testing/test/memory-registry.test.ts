import { MemoryRegistry } from "@flotilla/core";
import { registryConformance } from "../src/conformance/registry-conformance.js";

const timing = { heartbeatMs: 50, ttlMs: 150 };

registryConformance({
  name: "memory",
  ...timing,
  async setup() {
    const backend = new MemoryRegistry(timing);
    return { registry: async () => backend.view(), teardown: () => backend.close() };
  },
});
