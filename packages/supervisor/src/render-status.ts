/**
 * @module The status view `flotilla up` redraws in a terminal (and `flotilla ps` prints): units with
 * their health and wanted count, their instances (pid, state, uptime, restarts), the load the signals
 * read, companions, and the last scale decisions. Plain text, cut to the width given.
 */
import type { SupervisorStatus } from "./supervisor.js";

/** The status as text lines no wider than `width`, ending with a newline. */
export function renderStatus(status: SupervisorStatus, width = 100, now = Date.now()): string {
  const lines: string[] = [];
  const where = [
    status.gatewayUrl && `gateway ${status.gatewayUrl}`,
    status.dashboardUrl && `dashboard ${status.dashboardUrl}`,
    status.natsUrl && `nats ${status.natsUrl}`,
  ]
    .filter(Boolean)
    .join("  ");
  lines.push(`${status.app} — supervisor pid ${status.pid}, up ${duration(now - status.startedAt)}  ${where}`);
  lines.push(`database: ${status.database}`);
  lines.push("");
  lines.push(row(["UNIT", "HEALTH", "READY/WANT", "MIN..MAX", "RESTARTS", "IN-FLIGHT", "LAG", "CPU"]));
  for (const unit of status.units) {
    const ready = unit.instances.filter((i) => i.state === "ready").length;
    const s = unit.signals;
    lines.push(
      row([
        unit.name,
        unit.health,
        `${ready}/${unit.desired}`,
        `${unit.min}..${unit.max}`,
        String(unit.restarts),
        s?.inFlight === undefined ? "-" : String(s.inFlight),
        s?.lag === undefined ? "-" : String(s.lag),
        s?.cpuPercent === undefined ? "-" : `${Math.round(s.cpuPercent)}%`,
      ]),
    );
    for (const i of unit.instances) {
      lines.push(
        `  ${i.id.padEnd(18)} pid ${String(i.pid).padEnd(8)} ${i.state.padEnd(9)} up ${duration(now - i.startedAt)}`,
      );
    }
  }
  if (status.companions.length > 0) {
    lines.push("");
    for (const c of status.companions) {
      const state = c.running ? `running, up ${duration(now - c.startedAt)}` : "down";
      lines.push(`companion ${c.name}: pid ${c.pid} ${state}, restarts ${c.restarts}`);
    }
  }
  lines.push("");
  lines.push("last decisions:");
  if (status.decisions.length === 0) lines.push("  (none)");
  for (const d of status.decisions.slice(-5)) {
    lines.push(
      `  ${new Date(d.at).toISOString().slice(11, 19)} ${d.unit} ${d.from} → ${d.to} [${d.signal}] ${d.reason}`,
    );
  }
  return `${lines.map((line) => cut(line, width)).join("\n")}\n`;
}

const WIDTHS = [14, 11, 11, 9, 9, 10, 8, 6];

function row(cells: readonly string[]): string {
  return cells
    .map((cell, i) => cell.padEnd(WIDTHS[i] ?? 8))
    .join("")
    .trimEnd();
}

function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** 42s, 3m05s, 2h04m. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
