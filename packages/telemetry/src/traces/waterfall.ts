/**
 * @module A trace as a terminal waterfall: one line per span, nested under its parent, with a bar
 * placed and scaled on the trace's timeline. A span whose parent is not in the trace (not recorded, not
 * exported, or evicted) is drawn at the top level and marked `[orphan]`. A failed span is marked `✗`
 * and followed by a line with its `error.type` and status message.
 */
import { type SpanRecord, SpanStatuses } from "./span-record.js";
import { byStart } from "./trace-summary.js";

export interface WaterfallOptions {
  /** Columns the lines fit in (default 100; at least the columns the bars need). */
  width?: number;
  /** ANSI colours (default off: the CLI turns them on for a terminal without NO_COLOR). */
  color?: boolean;
}

const STATUS_COLUMN = 2;
const DURATION_COLUMN = 8;
const MIN_BAR = 10;
const MAX_SERVICE = 14;

const ANSI = { red: "\x1b[31m", cyan: "\x1b[36m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" };

interface Row {
  readonly span: SpanRecord;
  /** The tree drawn before the name: `├─ `, `│  └─ `, … */
  readonly prefix: string;
  /** The tree continued below this span, for its error line. */
  readonly below: string;
  readonly orphan: boolean;
}

export function renderWaterfall(spans: readonly SpanRecord[], options: WaterfallOptions = {}): string {
  if (spans.length === 0) return "no spans";
  const width = options.width ?? 100;
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${ANSI.reset}` : text);
  const rows = layout(spans);
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const total = end - start;

  const labels = rows.map((r) => `${r.prefix}${r.span.name}${r.orphan ? " [orphan]" : ""}`);
  const serviceWidth = Math.min(MAX_SERVICE, Math.max(...spans.map((s) => s.service.length)));
  const fixed = STATUS_COLUMN + 1 + serviceWidth + 1 + DURATION_COLUMN + 1;
  const nameWidth = Math.min(
    Math.max(...labels.map((l) => l.length)),
    Math.max(12, Math.floor((width - fixed) * 0.5)),
    Math.max(12, width - fixed - MIN_BAR),
  );
  const barWidth = Math.max(MIN_BAR, width - fixed - nameWidth);

  const errors = spans.filter((s) => s.status === SpanStatuses.error).length;
  const services = [...new Set(spans.map((s) => s.service))].sort();
  const head = rows.find((r) => r.span.parentSpanId === undefined)?.span ?? rows[0]?.span;
  const lines = [
    paint(
      ANSI.bold,
      [
        `trace ${spans[0]?.traceId}`,
        head?.name ?? "",
        formatDuration(total),
        plural(spans.length, "span"),
        plural(errors, "error"),
        services.join(", "),
      ].join("  "),
    ),
  ];
  const scaleLeft = " ".repeat(fixed + nameWidth);
  const endLabel = formatDuration(total);
  lines.push(
    paint(ANSI.dim, `${scaleLeft}0${" ".repeat(Math.max(1, barWidth - 1 - endLabel.length))}${endLabel}`).trimEnd(),
  );

  rows.forEach((row, i) => {
    const { span } = row;
    const failed = span.status === SpanStatuses.error;
    const status = failed ? paint(ANSI.red, "✗") : " ";
    const name = fit(labels[i] as string, nameWidth);
    const service = fit(span.service, serviceWidth).padEnd(serviceWidth);
    const duration = formatDuration(span.durationMs).padStart(DURATION_COLUMN);
    const bar = barOf(span, start, total, barWidth);
    lines.push(
      [
        `${status} ${failed ? paint(ANSI.red, name.padEnd(nameWidth)) : name.padEnd(nameWidth)}`,
        paint(ANSI.dim, service),
        duration,
        paint(failed ? ANSI.red : ANSI.cyan, bar),
      ]
        .join(" ")
        .trimEnd(),
    );
    const why = failed ? errorText(span) : undefined;
    if (why !== undefined) {
      const indent = `${" ".repeat(STATUS_COLUMN)}${row.below}`;
      lines.push(`${indent}${paint(ANSI.red, fit(`↳ ${why}`, Math.max(12, width - indent.length)))}`);
    }
  });
  return lines.join("\n");
}

/** The spans in tree order: each followed by its children, by start time; roots and orphans first level. */
function layout(spans: readonly SpanRecord[]): Row[] {
  const sorted = [...spans].sort(byStart);
  const ids = new Set(sorted.map((s) => s.spanId));
  const children = new Map<string, SpanRecord[]>();
  const top: SpanRecord[] = [];
  for (const span of sorted) {
    const parent = span.parentSpanId;
    if (parent === undefined || !ids.has(parent) || parent === span.spanId) top.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: Row[] = [];
  const seen = new Set<SpanRecord>();
  const visit = (span: SpanRecord, prefix: string, below: string, childIndent: string, orphan: boolean) => {
    seen.add(span);
    rows.push({ span, prefix, below, orphan });
    const kids = (children.get(span.spanId) ?? []).filter((k) => !seen.has(k));
    kids.forEach((kid, i) => {
      const last = i === kids.length - 1;
      visit(
        kid,
        `${childIndent}${last ? "└─ " : "├─ "}`,
        `${childIndent}${last ? "   " : "│  "}${hasKids(kid) ? "│  " : "   "}`,
        `${childIndent}${last ? "   " : "│  "}`,
        false,
      );
    });
  };
  const hasKids = (span: SpanRecord) => (children.get(span.spanId)?.length ?? 0) > 0;
  const visitTop = (span: SpanRecord, orphan: boolean) => visit(span, "", hasKids(span) ? "│  " : "   ", "", orphan);
  for (const span of top) visitTop(span, span.parentSpanId !== undefined);
  // Spans in a parent cycle (malformed input) reach no top-level span: shown as orphans.
  for (const span of sorted) if (!seen.has(span)) visitTop(span, true);
  return rows;
}

function barOf(span: SpanRecord, start: number, total: number, width: number): string {
  if (total <= 0) return "█".repeat(width);
  const offset = Math.min(width - 1, Math.floor(((span.startMs - start) / total) * width));
  const length = Math.max(1, Math.min(width - offset, Math.round((span.durationMs / total) * width)));
  return `${" ".repeat(offset)}${"█".repeat(length)}`;
}

function errorText(span: SpanRecord): string | undefined {
  const type = span.attributes["error.type"];
  const parts = [typeof type === "string" ? type : undefined, span.statusMessage].filter(
    (p): p is string => p !== undefined && p !== "",
  );
  return parts.length === 0 ? undefined : parts.join(": ");
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** `0.42ms`, `12.5ms`, `340ms`, `1.25s`, `72.0s`. */
export function formatDuration(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  return `${(ms / 1000).toFixed(1)}s`;
}
