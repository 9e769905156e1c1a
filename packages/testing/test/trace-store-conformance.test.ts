import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryTraceStore, sqliteTraceStore } from "@flotilla/telemetry";
import { traceStoreConformance } from "../src/index.js";

traceStoreConformance({
  name: "memory",
  async setup() {
    return { open: async (bounds) => memoryTraceStore(bounds), teardown: async () => {} };
  },
});

traceStoreConformance({
  name: "sqlite",
  async setup() {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-traces-"));
    let n = 0;
    return {
      open: async (bounds) => sqliteTraceStore({ file: join(dir, `traces-${++n}.sqlite`), ...bounds }),
      teardown: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});
