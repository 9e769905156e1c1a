import { basename } from "node:path";
import { afterAll } from "vitest";
import { sqliteDatabases } from "../src/index.js";
import { openFilesUnder, tempDir } from "./fixtures/files.js";
import { dataConformance } from "./support/data-conformance.js";
import { idempotencyConformance } from "./support/idempotency-conformance.js";
import { outboxConformance } from "./support/outbox-conformance.js";

const dir = tempDir();
afterAll(() => dir.remove());

dataConformance({
  name: "sqlite, a file per service",
  provider: () => sqliteDatabases({ dataDir: dir.path }),
  openConnections: async (service) =>
    openFilesUnder(dir.path).filter((file) => basename(file).startsWith(`${service}.sqlite`)).length,
});

outboxConformance({
  name: "sqlite",
  provider: () => sqliteDatabases({ dataDir: dir.path }),
  url: () => `sqlite:${dir.path}`,
});

idempotencyConformance({ name: "sqlite", provider: () => sqliteDatabases({ dataDir: dir.path }) });
