// The Traces view: a search of the kept traces (by trace id, service, route, status, duration), kept in the
// hash's query (`#/traces?service=orders&status=error`) so reload, Back and links keep it, its results
// read again on each tick of the `traces` topic; and one trace (`…&trace=<id>`) as a waterfall.
import { useJson, useLive } from "./api.js";
import { html, useState } from "./preact-htm.js";
import { formatMs, TraceDetail } from "./traces-waterfall.js";

/** The search's parameters, as the API takes them; anything else in the hash (the open trace) is the view's. */
const FILTERS = ["service", "route", "status", "minMs", "order"];
const TRACE_ID = /^[0-9a-f]{32}$/;
const LIMIT = 50;

function filtersOf(query) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value !== null && value !== "") params.set(name, value);
  }
  return params;
}

/** The hash's query with `changes` applied (an empty value removes a parameter). */
function withChanges(query, changes) {
  const next = new URLSearchParams(query);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === "") next.delete(name);
    else next.set(name, value);
  }
  return Object.fromEntries(next);
}

export default function TracesView({ query, navigate }) {
  const trace = query.get("trace");
  if (trace !== null && trace !== "") {
    const back = filtersOf(query).toString();
    return html`<${TraceDetail} key=${trace} id=${trace} back=${`#/traces${back === "" ? "" : `?${back}`}`} />`;
  }
  return html`<${TraceSearch} query=${query} navigate=${navigate} />`;
}

function TraceSearch({ query, navigate }) {
  const filters = filtersOf(query);
  const api = new URLSearchParams(filters);
  api.set("limit", String(LIMIT));
  const { data, error, reload } = useJson(`traces?${api}`);
  // The newest traces changed: read the search again (it may filter them out, so the topic's own list is not shown).
  useLive(["traces"], () => reload());
  return html`
    <h2>Traces</h2>
    <${SearchForm} key=${filters.toString()} filters=${filters} services=${data?.services ?? []} navigate=${navigate} query=${query} />
    ${error === undefined ? null : html`<p class="error" role="alert">The search failed: ${error.message} (${error.code})</p>`}
    ${data === undefined ? html`<p class="status">Searching…</p>` : html`<${Results} traces=${data.traces} filters=${filters} />`}
  `;
}

function SearchForm({ filters, services, navigate, query }) {
  const [form, setForm] = useState(() => ({
    trace: "",
    service: filters.get("service") ?? "",
    route: filters.get("route") ?? "",
    status: filters.get("status") ?? "",
    minMs: filters.get("minMs") ?? "",
    order: filters.get("order") ?? "",
  }));
  const [problem, setProblem] = useState(undefined);
  const field = (name) => (e) => setForm({ ...form, [name]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    const { trace, ...search } = form;
    const id = trace.trim().toLowerCase();
    if (id !== "") {
      if (!TRACE_ID.test(id)) {
        setProblem("A trace id is 32 hexadecimal characters.");
        return;
      }
      navigate(withChanges(query, { trace: id }));
      return;
    }
    navigate(withChanges(new URLSearchParams(), { ...search, route: search.route.trim(), minMs: search.minMs.trim() }));
  };
  // The service asked for stays a choice even when no kept trace has it (any more).
  const choices = [...new Set([...services, ...(form.service === "" ? [] : [form.service])])].sort();
  return html`
    <form class="trace-search" role="search" aria-label="Search traces" onSubmit=${submit}>
      <div>
        <label for="trace-id">Trace id</label>
        <input id="trace-id" value=${form.trace} onInput=${field("trace")} spellcheck="false" autocomplete="off"
          aria-describedby=${problem === undefined ? undefined : "trace-id-problem"} size="34" />
      </div>
      <div>
        <label for="trace-service">Service</label>
        <select id="trace-service" value=${form.service} onChange=${field("service")}>
          <option value="">any</option>
          ${choices.map((s) => html`<option key=${s} value=${s}>${s}</option>`)}
        </select>
      </div>
      <div>
        <label for="trace-route">Route</label>
        <input id="trace-route" value=${form.route} onInput=${field("route")} placeholder="POST /api/v1/orders" />
      </div>
      <div>
        <label for="trace-status">Status</label>
        <select id="trace-status" value=${form.status} onChange=${field("status")}>
          <option value="">any</option>
          <option value="ok">ok (no error)</option>
          <option value="error">error</option>
        </select>
      </div>
      <div>
        <label for="trace-min">Min duration (ms)</label>
        <input id="trace-min" type="number" min="0" step="any" value=${form.minMs} onInput=${field("minMs")} />
      </div>
      <div>
        <label for="trace-order">Order</label>
        <select id="trace-order" value=${form.order} onChange=${field("order")}>
          <option value="">newest first</option>
          <option value="slowest">slowest first</option>
        </select>
      </div>
      <div class="actions">
        <button type="submit">Search</button>
        <a href="#/traces">Clear</a>
      </div>
      ${problem === undefined ? null : html`<p id="trace-id-problem" class="error" role="alert">${problem}</p>`}
    </form>
  `;
}

function describe(filters) {
  const parts = [];
  if (filters.has("service")) parts.push(`service ${filters.get("service")}`);
  if (filters.has("route")) parts.push(`route ${filters.get("route")}`);
  if (filters.has("status")) parts.push(filters.get("status") === "error" ? "with an error" : "without error");
  if (filters.has("minMs")) parts.push(`at least ${filters.get("minMs")} ms`);
  return parts.length === 0 ? "all traces" : parts.join(", ");
}

function Results({ traces, filters }) {
  const order = filters.get("order") === "slowest" ? "slowest first" : "newest first";
  const link = (id) => {
    const params = new URLSearchParams(filters);
    params.set("trace", id);
    return `#/traces?${params}`;
  };
  return html`
    <p class="summary">${traces.length === 0 ? "No trace" : `${traces.length} ${traces.length === 1 ? "trace" : "traces"}`} found: ${describe(filters)}, ${order}${traces.length === LIMIT ? ` (the first ${LIMIT})` : ""}.</p>
    <table class="traces">
      <caption>Traces found</caption>
      <thead>
        <tr>
          <th scope="col">Trace</th>
          <th scope="col">Service</th>
          <th scope="col">Started</th>
          <th scope="col">Duration</th>
          <th scope="col">Spans</th>
          <th scope="col">Status</th>
          <th scope="col">Services</th>
          <th scope="col">Trace id</th>
        </tr>
      </thead>
      <tbody>
        ${traces.map(
          (t) => html`
            <tr key=${t.traceId}>
              <th scope="row"><a href=${link(t.traceId)}>${t.name || "(unnamed)"}</a></th>
              <td>${t.service}</td>
              <td><time datetime=${new Date(t.startMs).toISOString()}>${new Date(t.startMs).toLocaleTimeString()}</time></td>
              <td class="num">${formatMs(t.durationMs)}</td>
              <td class="num">${t.spans}</td>
              <td><span class=${t.errors > 0 ? "health down" : "health up"}>${t.errors > 0 ? `${t.errors} ${t.errors === 1 ? "error" : "errors"}` : "ok"}</span></td>
              <td>${t.services.join(", ")}</td>
              <td><code>${t.traceId}</code></td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
