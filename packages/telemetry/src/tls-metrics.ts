/** @module The gateway's certificate reloads as a metric: `flotilla_tls_reloads_total{result="ok"|"failed"}`. */
import { Counter, type Registry } from "prom-client";

/** Registers the counter and returns what the gateway's `tls.onReload` calls on each attempt. */
export function tlsReloadMetrics(registry: Registry): (result: "ok" | "failed") => void {
  const reloads = new Counter({
    name: "flotilla_tls_reloads_total",
    help: "Reloads of the gateway's TLS certificate and key after their files changed, by result (failed: the old pair kept).",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  // Both series exist from the start, so an alert on failures has a zero to compare against.
  reloads.inc({ result: "ok" }, 0);
  reloads.inc({ result: "failed" }, 0);
  return (result) => reloads.inc({ result });
}
