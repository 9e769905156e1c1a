/** @module The start-time check that a process's services use the same databases as their running instances. */
import type { ServiceDefinition, Transport } from "@flotilla/core";
import { type DatabaseGuard, guardDatabases, NatsTransport } from "@flotilla/nats";
import { SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { databaseClaims } from "./database-identity.js";

/**
 * Over NATS, asks each service's running instances which database they use and refuses
 * (FLOTILLA_DATABASE_MISMATCH) when one uses another than this process would; then answers the
 * instances that start later, until the guard is closed. In-process (one process is the whole app),
 * and for services without a database, there is nothing to check: undefined.
 */
export async function checkDatabases(
  transport: Transport,
  services: readonly ServiceDefinition[],
  options: { dataDir: string; tracer?: Tracer | undefined },
): Promise<DatabaseGuard | undefined> {
  const nc = transport instanceof NatsTransport ? transport.connection : undefined;
  const claims = databaseClaims(services, { dataDir: options.dataDir });
  if (nc === undefined || claims.length === 0) return undefined;
  if (options.tracer === undefined) return guardDatabases(nc, claims);
  return options.tracer.startActiveSpan(
    "flotilla.database.check",
    { attributes: { "flotilla.services": claims.map((c) => c.service) } },
    async (span) => {
      try {
        return await guardDatabases(nc, claims);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
