// One trace as a waterfall: every span nested under its parent (a span whose parent is not kept is drawn at
// the top level, marked orphan), a bar placed and sized on the trace's timeline, its service, duration and
// status in words, the critical path marked on the bar and in words, and each span's attributes and events
// behind a button.
import { useJson, useLive } from "./api.js";
import { html, useState } from "./preact-htm.js";

const STATUS = { 0: "ok", 1: "ok", 2: "error" };
const KIND = { 0: "internal", 1: "server", 2: "client", 3: "producer", 4: "consumer" };

export function formatMs(ms) {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** The spans depth first, children by start time: `{ span, depth, orphan }`. */
function layout(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    const parent = span.parentSpanId;
    if (parent === undefined || !ids.has(parent)) roots.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows = [];
  const seen = new Set();
  const visit = (span, depth) => {
    if (seen.has(span.spanId)) return;
    seen.add(span.spanId);
    rows.push({ span, depth, orphan: depth === 0 && span.parentSpanId !== undefined });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return rows;
}

export function TraceDetail({ id, back }) {
  const { data, error, reload } = useJson(`traces/${encodeURIComponent(id)}`);
  // Spans keep arriving after a request answers (a saga's steps): read the trace again when it grows.
  useLive(["traces"], (_event, update) => {
    const summary = update.traces.find((t) => t.traceId === id);
    if (summary !== undefined && data !== undefined && summary.spans !== data.spans.length) reload();
  });
  const backLink = html`<p><a href=${back}>Back to the search</a></p>`;
  if (error !== undefined) {
    const what = error.code === "NOT_FOUND" ? `No span of trace ${id} is kept.` : `${error.message} (${error.code})`;
    return html`<h2>Trace</h2>${backLink}<p class="error" role="alert">${what}</p>`;
  }
  if (data === undefined) return html`<h2>Trace</h2>${backLink}<p class="status">Reading the trace…</p>`;
  return html`<${Waterfall} trace=${data} backLink=${backLink} />`;
}

function Waterfall({ trace, backLink }) {
  const [open, setOpen] = useState(() => new Set());
  const rows = layout(trace.spans);
  const start = Math.min(...trace.spans.map((s) => s.startMs));
  const end = Math.max(...trace.spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  const critical = new Set(trace.criticalPath);
  const head = rows[0]?.span;
  const errors = trace.spans.filter((s) => s.status === 2).length;
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const path = trace.criticalPath.map((spanId) => byId.get(spanId)).filter((s) => s !== undefined);
  const toggle = (spanId) => {
    const next = new Set(open);
    if (next.has(spanId)) next.delete(spanId);
    else next.add(spanId);
    setOpen(next);
  };
  return html`
    <h2>Trace ${head?.name ?? trace.traceId}</h2>
    ${backLink}
    <p class="summary">
      <code>${trace.traceId}</code>: ${formatMs(end - start)}, ${trace.spans.length} spans,
      ${errors === 0 ? " no error" : ` ${errors} ${errors === 1 ? "error" : "errors"}`}, services ${trace.services.join(", ")}.
    </p>
    <p class="critical-summary">
      Critical path (${path.length} of ${trace.spans.length} spans, what the trace's end waited on):
      ${" "}${path.map((s) => `${s.service} ${s.name}`).join(" → ")}
    </p>
    <table class="waterfall">
      <caption>Spans of the trace, nested by parent, on its timeline</caption>
      <thead>
        <tr>
          <th scope="col">Span</th>
          <th scope="col">Service</th>
          <th scope="col">Duration</th>
          <th scope="col">Status</th>
          <th scope="col">Critical path</th>
          <th scope="col" class="timeline">Timeline (0 to ${formatMs(total)})</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((row) => {
          const { span } = row;
          const isOpen = open.has(span.spanId);
          const onPath = critical.has(span.spanId);
          const failed = span.status === 2;
          const left = ((span.startMs - start) / total) * 100;
          const width = Math.max((span.durationMs / total) * 100, 0.3);
          return html`
            <tr key=${span.spanId} class=${onPath ? "critical" : undefined}>
              <th scope="row" style=${{ paddingInlineStart: `${0.6 + row.depth * 1.1}rem` }}>
                <button type="button" class="span-toggle" aria-expanded=${isOpen ? "true" : "false"}
                  aria-controls=${`span-${span.spanId}`} onClick=${() => toggle(span.spanId)}>
                  <span class="visually-hidden">${isOpen ? "Hide" : "Show"} details of </span>${span.name}
                </button>
                ${row.orphan ? html` <span class="tag">orphan</span>` : null}
              </th>
              <td>${span.service}</td>
              <td class="num">${formatMs(span.durationMs)}</td>
              <td><span class=${failed ? "health down" : "health up"}>${failed ? `error${span.statusMessage ? `: ${span.statusMessage}` : ""}` : STATUS[span.status]}</span></td>
              <td>${onPath ? html`<span class="tag critical-tag">critical path</span>` : ""}</td>
              <td class="timeline">
                <div class="track"><div class=${`span-bar${onPath ? " on-path" : ""}${failed ? " failed" : ""}`}
                  style=${{ left: `${Math.min(left, 99.7)}%`, width: `${Math.min(width, 100 - Math.min(left, 99.7))}%` }}></div></div>
              </td>
            </tr>
            ${isOpen ? html`<tr key=${`${span.spanId}-details`} class="span-details"><td colspan="6" id=${`span-${span.spanId}`}><${SpanDetails} span=${span} start=${start} /></td></tr>` : null}
          `;
        })}
      </tbody>
    </table>
  `;
}

function value(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** An event's attributes on one line: `key=value, …`. */
function facts(attributes = {}) {
  return Object.entries(attributes)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(", ");
}

function SpanDetails({ span, start }) {
  const attributes = Object.entries(span.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return html`
    <dl class="span-facts">
      <dt>Span id</dt><dd><code>${span.spanId}</code></dd>
      <dt>Parent</dt><dd>${span.parentSpanId === undefined ? "none (root)" : html`<code>${span.parentSpanId}</code>`}</dd>
      <dt>Kind</dt><dd>${KIND[span.kind] ?? span.kind}</dd>
      <dt>Starts at</dt><dd>${formatMs(span.startMs - start)} into the trace</dd>
      ${span.instance === undefined ? null : html`<dt>Instance</dt><dd>${span.instance}</dd>`}
    </dl>
    <h3>Attributes</h3>
    ${
      attributes.length === 0
        ? html`<p>None.</p>`
        : html`<dl class="attributes">${attributes.map(([k, v]) => html`<dt key=${`k-${k}`}>${k}</dt><dd key=${`v-${k}`}>${value(v)}</dd>`)}</dl>`
    }
    <h3>Events</h3>
    ${
      (span.events ?? []).length === 0
        ? html`<p>None.</p>`
        : html`<ol class="events">${span.events.map(
            (e, i) =>
              html`<li key=${i}>${formatMs(e.timeMs - start)}: <strong>${e.name}</strong> ${facts(e.attributes)}</li>`,
          )}</ol>`
    }
  `;
}
