/** @module Liveness (`/healthz`) and readiness (`/readyz`: the host and every routed service). */
import type { Host } from "@flotilla/core";
import type { FastifyInstance } from "fastify";

export interface ReadinessReport {
  ready: boolean;
  hostReady: boolean;
  /** Routed services with no instance answering right now. */
  missing: string[];
}

export async function readiness(host: Host, services: readonly string[]): Promise<ReadinessReport> {
  const [hostReady, available] = await Promise.all([
    host.isReady().catch(() => false),
    Promise.all(services.map((s) => host.transport.isAvailable(s).catch(() => false))),
  ]);
  const missing = services.filter((_, i) => !available[i]);
  return { ready: hostReady && missing.length === 0, hostReady, missing };
}

export function registerHealthRoutes(
  app: FastifyInstance,
  host: Host,
  services: readonly string[],
  stopping: () => boolean = () => false,
): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    if (stopping()) {
      reply.code(503);
      return { status: "stopping" };
    }
    const report = await readiness(host, services);
    if (report.ready) return { status: "ok" };
    reply.code(503);
    return { status: "unavailable", hostReady: report.hostReady, missing: report.missing };
  });
}
