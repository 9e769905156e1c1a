// The Sagas view: counts by type and status, the sagas filtered by status and type (kept in the hash, with
// the saga whose timeline is open), and a saga's timeline: commands, outcomes, retries and compensations.
import { useJson, useLive } from "./api.js";
import { html, useEffect, useRef } from "./preact-htm.js";

const STATUSES = ["running", "compensating", "completed", "compensated", "failed"];
const STATUS_TEXT = {
  running: "running",
  compensating: "compensating",
  completed: "completed",
  compensated: "compensated (undone)",
  failed: "failed (needs an operator)",
};
const KIND_TAG = {
  retry: "retry",
  compensating: "compensation",
  compensated: "compensation",
  "compensation-failed": "compensation",
  failed: "failure",
  "saga-failed": "failure",
};

/** A retry, a compensation or a failure says so in words, beside its label. */
function tagOf(entry) {
  return entry.kind === "sent" && entry.phase === "compensate" ? "compensation" : KIND_TAG[entry.kind];
}

function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function time(iso) {
  return html`<time datetime=${iso}>${new Date(iso).toLocaleTimeString()}</time>`;
}

/** The hash of this view with `changes` applied to its query (empty values dropped). */
function hrefWith(query, changes) {
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === "") next.delete(key);
    else next.set(key, value);
  }
  const search = next.toString();
  return `#/sagas${search === "" ? "" : `?${search}`}`;
}

function Filters({ query, navigate, types }) {
  const change = (key) => (e) => {
    const next = Object.fromEntries(query);
    delete next.saga;
    if (e.currentTarget.value === "") delete next[key];
    else next[key] = e.currentTarget.value;
    navigate(next);
  };
  return html`
    <form class="saga-filters" onSubmit=${(e) => e.preventDefault()}>
      <label for="saga-status">Status</label>
      <select id="saga-status" value=${query.get("status") ?? ""} onChange=${change("status")}>
        <option value="">all statuses</option>
        ${STATUSES.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}
      </select>
      <label for="saga-type">Type</label>
      <select id="saga-type" value=${query.get("type") ?? ""} onChange=${change("type")}>
        <option value="">all types</option>
        ${types.map((t) => html`<option key=${t} value=${t}>${t}</option>`)}
      </select>
    </form>
  `;
}

function Counts({ counts }) {
  const rows = new Map();
  for (const c of counts) {
    const key = `${c.service}: ${c.type} v${c.version}`;
    rows.set(key, { ...(rows.get(key) ?? {}), [c.status]: c.count });
  }
  if (rows.size === 0) return html`<p class="status">No saga has run yet.</p>`;
  return html`
    <table class="saga-counts">
      <caption>Sagas by type and status</caption>
      <thead>
        <tr>
          <th scope="col">Type</th>
          ${STATUSES.map((s) => html`<th key=${s} scope="col">${s}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${[...rows].map(
          ([key, byStatus]) => html`
            <tr key=${key}>
              <th scope="row">${key}</th>
              ${STATUSES.map((s) => html`<td key=${s}>${byStatus[s] ?? 0}</td>`)}
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

function SagaRows({ sagas, query }) {
  if (sagas.length === 0) {
    return html`<tr><td colspan="8">No saga matches these filters.</td></tr>`;
  }
  return sagas.map(
    (s) => html`
      <tr key=${`${s.service}/${s.id}`} aria-current=${query.get("saga") === s.id ? "true" : undefined}>
        <th scope="row"><a href=${hrefWith(query, { saga: s.id })}>${s.id}</a></th>
        <td>${s.service}</td>
        <td>${s.type} v${s.version}</td>
        <td><span class=${`saga-status ${s.status}`}>${STATUS_TEXT[s.status] ?? s.status}</span></td>
        <td>${s.step}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ""}</td>
        <td>${time(s.startedAt)}</td>
        <td>${duration(s.durationMs)}</td>
        <td>${s.failure === null ? "—" : `${s.failure.step}: ${s.failure.code}`}</td>
      </tr>
    `,
  );
}

function Timeline({ id, round }) {
  const { data, error, reload } = useJson(`sagas/${encodeURIComponent(id)}`);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else reload();
  }, [round]);
  if (error !== undefined) return html`<p class="status" role="alert">Saga ${id}: ${error.message}</p>`;
  if (data === undefined) return html`<p class="status">Reading saga ${id}…</p>`;
  return html`
    <section class="saga-timeline" aria-labelledby="saga-timeline-title">
      <h3 id="saga-timeline-title" tabindex="-1">Timeline of saga ${data.id}</h3>
      <p class="summary">
        ${`${data.type} v${data.version} in ${data.service}: ${STATUS_TEXT[data.status] ?? data.status}, `}
        ${`${duration(data.durationMs)} from start${data.finishedAt === null ? " so far" : " to end"}.`}
        ${data.failure === null ? "" : ` Failed at ${data.failure.step}: ${data.failure.code} (${data.failure.message}).`}
      </p>
      <ol>
        ${data.timeline.map(
          (entry, i) => html`
            <li key=${i} class=${`kind-${entry.kind}`}>
              ${time(entry.at)}
              ${i === 0 ? "" : html`<span class="since">${` +${duration(entry.sinceMs)}`}</span>`}
              ${tagOf(entry) ? html` <span class="tag">${tagOf(entry)}</span>` : ""}
              ${` ${entry.label}`}
            </li>
          `,
        )}
      </ol>
    </section>
  `;
}

export default function SagasView({ query, navigate }) {
  const filter = new URLSearchParams();
  for (const key of ["status", "type"]) if (query.get(key)) filter.set(key, query.get(key));
  const list = useJson(`sagas${filter.size === 0 ? "" : `?${filter}`}`);
  // The list and the open timeline are read again when the live counts or the newest saga change.
  const seen = useRef("");
  const round = useRef(0);
  useLive(["sagas"], (_event, data) => {
    const signature = JSON.stringify([data.counts, data.newest.map((s) => [s.id, s.updatedAt])]);
    if (signature === seen.current) return;
    const first = seen.current === "";
    seen.current = signature;
    if (!first) {
      round.current += 1;
      list.reload();
    }
  });
  const data = list.data;
  const types = [...new Set((data?.counts ?? []).map((c) => c.type))].sort();
  const open = query.get("saga");
  return html`
    <h2>Sagas</h2>
    <${Filters} query=${query} navigate=${navigate} types=${types} />
    ${list.error === undefined ? "" : html`<p class="status" role="alert">${list.error.message}</p>`}
    ${
      data === undefined
        ? html`<p class="status">Reading sagas…</p>`
        : html`
          ${
            data.unreadable.length === 0
              ? ""
              : html`<p class="saga-unreadable" role="alert">
                  ${`Not read: ${data.unreadable.map((u) => `${u.service} (${u.reason})`).join("; ")}.`}
                </p>`
          }
          <${Counts} counts=${data.counts} />
          <table class="sagas">
            <caption>Sagas, most recently updated first</caption>
            <thead>
              <tr>
                <th scope="col">Saga</th>
                <th scope="col">Service</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Step</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Failure</th>
              </tr>
            </thead>
            <tbody><${SagaRows} sagas=${data.sagas} query=${query} /></tbody>
          </table>
        `
    }
    ${open ? html`<${Timeline} key=${open} id=${open} round=${round.current} />` : ""}
  `;
}
