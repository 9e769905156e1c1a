// The Metrics and scaling view: RED charts of a chosen route, action or event handler (rate, errors,
// latency), a table of every series of that kind with its latest figures, the outbox backlog and the
// instances per service; with a supervisor, its units over time, its decisions and the scale and restart
// forms (metrics-scaling.js). The history is read once; the `metrics` topic then brings each new point.

import { useJson, useLive } from "./api.js";
import { Chart, column, formatRate, formatRatio, formatSeconds, wholeTicks } from "./metrics-chart.js";
import { Scaling } from "./metrics-scaling.js";
import { html, useEffect, useState } from "./preact-htm.js";

const KINDS = [
  { id: "route", list: "routes", label: "Routes", one: "route", noun: "requests" },
  { id: "action", list: "actions", label: "Actions", one: "action", noun: "calls" },
  { id: "handler", list: "handlers", label: "Event handlers", one: "event handler", noun: "deliveries" },
];
const LISTS = ["routes", "actions", "handlers", "outbox", "instances"];

/** Adds the points of an update to the history the page holds, dropping those past the history's span. */
export function merge(held, update) {
  if (held === undefined) return update;
  const since = update.sampledAt === null ? 0 : update.sampledAt - update.historyMs;
  const next = { ...update };
  for (const list of LISTS) {
    const before = new Map(held[list].map((s) => [s.key, s]));
    next[list] = update[list].map((s) => {
      const old = before.get(s.key);
      const last = old?.points.at(-1)?.[0] ?? Number.NEGATIVE_INFINITY;
      const points = [...(old?.points ?? []), ...s.points.filter((p) => p[0] > last)].filter((p) => p[0] > since);
      return { ...s, points };
    });
  }
  return next;
}

function busiest(list) {
  return [...list].sort((a, b) => b.total - a.total)[0]?.key;
}

function RedCharts({ kind, series }) {
  const points = series.points;
  const latest = points.at(-1);
  const times = column(points, 0);
  const id = `red-${kind.id}`;
  const errorsLabel = kind.id === "route" ? "server errors (5xx)" : "errors";
  const totals =
    kind.id === "route"
      ? `${series.total} ${kind.noun} in total, ${series.errors} server errors (5xx), ${series.clientErrors} client errors (4xx).`
      : `${series.total} ${kind.noun} in total, ${series.errors} failed.`;
  const lastWords =
    latest === undefined
      ? "No interval measured yet: the first point comes one period after the view opened."
      : latest[1] === 0
        ? `No ${kind.noun} in the latest interval.`
        : `In the latest ${Math.round(latest[1])} ${kind.noun}: ${formatRate(latest[2])} per second, ${formatRatio(latest[3])} ${errorsLabel}${
            kind.id === "route" ? `, ${formatRatio(latest[4])} client errors` : ""
          }, median ${formatSeconds(latest[5])}, 95th percentile ${formatSeconds(latest[6])}.`;
  return html`
    <p class="summary" id="red-totals">${series.key}: ${totals} ${lastWords}</p>
    <div class="charts">
      <${Chart}
        id=${`${id}-rate`}
        title=${`Rate: ${kind.noun} per second`}
        lines=${[{ label: `${kind.noun}/s` }]}
        data=${[times, column(points, 2)]}
        unit=${formatRate}
        summary=${`Latest ${formatRate(latest?.[2])} ${kind.noun} per second.`}
      />
      <${Chart}
        id=${`${id}-errors`}
        title="Errors: share of the interval"
        lines=${kind.id === "route" ? [{ label: "5xx" }, { label: "4xx" }] : [{ label: "failed" }]}
        data=${kind.id === "route" ? [times, column(points, 3), column(points, 4)] : [times, column(points, 3)]}
        unit=${formatRatio}
        summary=${`Latest ${formatRatio(latest?.[3])} ${errorsLabel}${kind.id === "route" ? `, ${formatRatio(latest?.[4])} client errors` : ""}.`}
      />
      <${Chart}
        id=${`${id}-latency`}
        title="Duration: median and 95th percentile"
        lines=${[{ label: "p50" }, { label: "p95" }]}
        data=${[times, column(points, 5), column(points, 6)]}
        unit=${formatSeconds}
        summary=${`Latest median ${formatSeconds(latest?.[5])}, 95th percentile ${formatSeconds(latest?.[6])}.`}
      />
    </div>
  `;
}

function SeriesTable({ kind, list, selected, choose }) {
  return html`
    <table class="instances metrics-table">
      <caption>${kind.label}: totals and the latest interval</caption>
      <thead>
        <tr>
          <th scope="col">${kind.label.replace(/s$/, "")}</th>
          <th scope="col">Total</th>
          <th scope="col">${kind.id === "route" ? "5xx" : "Failed"}</th>
          ${kind.id === "route" ? html`<th scope="col">4xx</th>` : null}
          <th scope="col">Per second</th>
          <th scope="col">Error ratio</th>
          <th scope="col">p50</th>
          <th scope="col">p95</th>
        </tr>
      </thead>
      <tbody>
        ${list.map((s) => {
          const p = s.points.at(-1);
          return html`
            <tr key=${s.key} data-key=${s.key}>
              <th scope="row">
                <button type="button" class="link" aria-pressed=${s.key === selected ? "true" : "false"} onClick=${() => choose(s.key)}>
                  ${s.key}
                </button>
              </th>
              <td>${s.total}</td>
              <td>${s.errors}</td>
              ${kind.id === "route" ? html`<td>${s.clientErrors}</td>` : null}
              <td>${formatRate(p?.[2])}</td>
              <td>${formatRatio(p?.[3])}</td>
              <td>${formatSeconds(p?.[5])}</td>
              <td>${formatSeconds(p?.[6])}</td>
            </tr>
          `;
        })}
      </tbody>
    </table>
  `;
}

function GaugeSection({ id, title, list, unit }) {
  if (list.length === 0) return null;
  const times = [...new Set(list.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const data = [times, ...list.map((s) => times.map((t) => s.points.find((p) => p[0] === t)?.[1] ?? null))];
  return html`
    <section aria-labelledby=${`${id}-heading`}>
      <h2 id=${`${id}-heading`}>${title}</h2>
      <${Chart}
        id=${id}
        title=${`${title} over time`}
        lines=${list.map((s) => ({ label: s.key }))}
        data=${data}
        unit=${wholeTicks}
        summary=${`Latest (${unit}): ${list.map((s) => `${s.key} ${s.value}`).join(", ")}.`}
      />
    </section>
  `;
}

function LiveMetrics({ query, navigate }) {
  const first = useJson("metrics");
  const [data, setData] = useState(undefined);
  useEffect(() => {
    if (first.data !== undefined) setData((held) => merge(held, first.data));
  }, [first.data]);
  const [scaling, setScaling] = useState(undefined);
  const linked = data?.supervisor === true;
  // One stream for the view: the supervisor's topic joins once the first read said it is linked.
  useLive(linked ? ["metrics", "scaling"] : ["metrics"], (event, update) => {
    if (event === "scaling") setScaling(update);
    else setData((held) => merge(held, update));
  });
  if (data === undefined) {
    return html`<h2>Metrics</h2><p class="status">${first.error ? `Cannot read the metrics: ${first.error.message}` : "Reading the metrics…"}</p>`;
  }
  const kind = KINDS.find((k) => k.id === query.get("kind")) ?? KINDS[0];
  const list = data[kind.list];
  const key = list.some((s) => s.key === query.get("series")) ? query.get("series") : busiest(list);
  const series = list.find((s) => s.key === key);
  const choose = (k) => navigate({ kind: kind.id, series: k });
  const failed = data.sources.filter((s) => s.error !== undefined);
  return html`
    <h2>Metrics</h2>
    <p class="summary">
      ${`Read from ${data.sources.length} ${data.sources.length === 1 ? "process" : "processes"} every ${data.sampleMs / 1000} s`}
      ${data.sampledAt === null ? "" : html`, last at <time datetime=${new Date(data.sampledAt).toISOString()}>${new Date(data.sampledAt).toLocaleTimeString()}</time>`}${`; the last ${data.historyMs / 60000} minutes are kept.`}
      ${failed.length === 0 ? "" : ` Not read: ${failed.map((s) => `${s.source} (${s.error})`).join("; ")}.`}
      ${data.droppedSeries > 0 ? ` ${data.droppedSeries} series over the bound of ${data.maxSeries} are not shown.` : ""}
    </p>
    <section aria-labelledby="red-heading">
      <h2 id="red-heading">Rate, errors, duration</h2>
      <div class="metrics-pickers">
        <label for="metrics-kind">Measure</label>
        <select id="metrics-kind" value=${kind.id} onChange=${(e) => navigate({ kind: e.currentTarget.value })}>
          ${KINDS.map((k) => html`<option key=${k.id} value=${k.id}>${k.label}</option>`)}
        </select>
        <label for="metrics-series">${kind.one[0].toUpperCase() + kind.one.slice(1)}</label>
        <select id="metrics-series" value=${key ?? ""} disabled=${list.length === 0} onChange=${(e) => choose(e.currentTarget.value)}>
          ${list.map((s) => html`<option key=${s.key} value=${s.key}>${s.key}</option>`)}
        </select>
      </div>
      ${series === undefined ? html`<p class="status">No ${kind.noun} measured yet.</p>` : html`<${RedCharts} kind=${kind} series=${series} />`}
      ${list.length === 0 ? null : html`<${SeriesTable} kind=${kind} list=${list} selected=${key} choose=${choose} />`}
    </section>
    <${GaugeSection} id="outbox" title="Outbox backlog" list=${data.outbox} unit="events" />
    <${GaugeSection} id="instances" title="Instances per service" list=${data.instances} unit="instances" />
    ${linked ? html`<${Scaling} live=${scaling} />` : null}
  `;
}

export default LiveMetrics;
