import { MemoryTransport } from "@flotilla/core";
import { transportConformance } from "../src/index.js";

for (const faithful of [false, true]) {
  transportConformance({
    name: faithful ? "memory (wire-faithful)" : "memory",
    ...(faithful ? { maxPayloadBytes: 64 * 1024 } : {}),
    async setup() {
      const transport = new MemoryTransport({ faithful, maxPayloadBytes: 64 * 1024 });
      await transport.connect();
      return {
        transport: async () => transport,
        deadLetters: (group) => transport.deadLetterStore.list(group),
        teardown: () => transport.close(),
      };
    },
  });
}
