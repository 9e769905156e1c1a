import { databaseProvider } from "../src/index.js";
import { dataConformance } from "./support/data-conformance.js";
import { idempotencyConformance } from "./support/idempotency-conformance.js";
import { outboxConformance } from "./support/outbox-conformance.js";
import { usePostgres } from "./support/postgres.js";

const pg = usePostgres();

dataConformance({
  name: "postgres, a schema and role per service",
  provider: () => databaseProvider(`${pg.server.url}?isolation=schema`),
  openConnections: pg.openConnections,
});

dataConformance({
  name: "postgres, a database per service",
  provider: () => databaseProvider(pg.server.url.replace(/\/postgres$/, "/{service}")),
  openConnections: pg.openConnections,
});

outboxConformance({
  name: "postgres, a schema and role per service",
  provider: () => databaseProvider(`${pg.server.url}?isolation=schema`),
  url: () => `${pg.server.url}?isolation=schema`,
});

idempotencyConformance({
  name: "postgres, a schema and role per service",
  provider: () => databaseProvider(`${pg.server.url}?isolation=schema`),
});
