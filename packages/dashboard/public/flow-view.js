// The Event flow view: per event type and consumer group, the time at each stage (emit, wait for the
// handler, handler, its transaction), the lag and the dead letters; live messages of a chosen type with
// their redacted payloads; and one event's path, by its id. The choices live in the hash (`watch`, `event`).
import { useJson, useLive } from "./api.js";
import { html, useState } from "./preact-htm.js";

const MAX_MESSAGES = 50;

function times(t) {
  return t === undefined ? "—" : `${ms(t.p50Ms)} / ${ms(t.p95Ms)}`;
}

function ms(value) {
  if (value === undefined || value === null) return "—";
  return value < 10 ? `${value.toFixed(2)} ms` : `${Math.round(value)} ms`;
}

function TypeRows({ flow }) {
  const groups = flow.groups.length > 0 ? flow.groups : [undefined];
  return groups.map(
    (g, i) => html`
      <tr key=${g?.name ?? "none"}>
        <th scope="row">${flow.type}</th>
        <td>${i === 0 ? flow.publisher : ""}</td>
        <td>${i === 0 ? flow.lastMinute : ""}</td>
        <td>${i === 0 ? times(flow.emit) : ""}</td>
        <td>${g === undefined ? (flow.broadcasts.length > 0 ? `broadcast: ${flow.broadcasts.join(", ")}` : "no consumer") : g.name}</td>
        <td>${g === undefined ? "—" : times(g.wait)}</td>
        <td>${g === undefined ? "—" : times(g.handler)}</td>
        <td>${g === undefined ? "—" : times(g.transaction)}</td>
        <td>${g === undefined ? "—" : g.lag === null ? "not read here" : g.lag}</td>
        <td>${g === undefined ? "—" : g.deadLetters > 0 ? html`<a href=${`#/dead-letters?group=${encodeURIComponent(g.name)}`}>${g.deadLetters}</a>` : "0"}</td>
      </tr>
    `,
  );
}

function FlowTable({ overview }) {
  return html`
    <table class="flow">
      <caption>${`Event types by consumer group: median / 95th percentile time at each stage over the last ${Math.round(overview.windowMs / 60000)} minutes`}</caption>
      <thead>
        <tr>
          <th scope="col">Event type</th>
          <th scope="col">Publisher</th>
          <th scope="col">Last minute</th>
          <th scope="col">Emit</th>
          <th scope="col">Consumer group</th>
          <th scope="col">Wait (outbox, broker, queue)</th>
          <th scope="col">Handler</th>
          <th scope="col">Transaction</th>
          <th scope="col">Lag</th>
          <th scope="col">Dead letters</th>
        </tr>
      </thead>
      <tbody>
        ${overview.types.map((t) => html`<${TypeRows} key=${t.type} flow=${t} />`)}
      </tbody>
    </table>
  `;
}

function Messages({ messages, watch, onPath }) {
  const shown = watch === "*" ? messages : messages.filter((m) => m.type === watch);
  const dropped = messages.length === 0 ? 0 : messages[0].dropped;
  return html`
    <p class="status" aria-live="polite">
      ${shown.length === 0 ? "Waiting for messages…" : `${shown.length} message${shown.length === 1 ? "" : "s"} shown, newest first.`}
      ${dropped > 0 ? ` ${dropped} left out over the rate limit.` : ""}
    </p>
    <ol class="messages" aria-label="Live messages">
      ${shown.map(
        (m) => html`
          <li key=${m.id}>
            <p><strong>${m.type}</strong> ${m.id} from ${m.source} at <time datetime=${m.time}>${new Date(m.time).toLocaleTimeString()}</time></p>
            <pre class="payload">${JSON.stringify(m.data, null, 2)}</pre>
            <button type="button" onClick=${() => onPath(m.id)}>Show the path of ${m.id}</button>
          </li>
        `,
      )}
    </ol>
  `;
}

function EventPath({ id }) {
  const { data, error, loading, reload } = useJson(`flow/event/${encodeURIComponent(id)}`);
  if (error !== undefined && data === undefined) {
    // Spans of a just-published event may not be kept yet: they can be looked for again.
    return html`<p class="status" role="alert">Event ${id}: ${error.message}</p>
      <button type="button" onClick=${reload}>Look again</button>`;
  }
  if (data === undefined) return html`<p class="status">${loading ? "Reading its spans…" : ""}</p>`;
  const start = data.emit?.startMs ?? data.deliveries[0]?.startMs ?? 0;
  return html`
    <table class="flow path">
      <caption>Path of event ${data.id} (${data.type})</caption>
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col">Where</th>
          <th scope="col">Started after</th>
          <th scope="col">Wait</th>
          <th scope="col">Took</th>
          <th scope="col">Transaction</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${
          data.emit &&
          html`<tr>
            <th scope="row">Emit</th>
            <td>${data.emit.service}</td>
            <td>${ms(0)}</td>
            <td>—</td>
            <td>${ms(data.emit.durationMs)}</td>
            <td>—</td>
            <td>stored</td>
          </tr>`
        }
        ${data.deliveries.map(
          (d) => html`<tr key=${`${d.group}-${d.attempt}-${d.startMs}`}>
            <th scope="row">Handled by ${d.group} (attempt ${d.attempt})</th>
            <td>${d.service}</td>
            <td>${ms(d.startMs - start)}</td>
            <td>${ms(d.waitMs)}</td>
            <td>${ms(d.handlerMs)}</td>
            <td>${ms(d.transactionMs)}</td>
            <td>${d.ok ? "ok" : "failed"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}

export default function FlowView({ query, navigate }) {
  const watch = query.get("watch") ?? "";
  const eventId = query.get("event") ?? "";
  const [overview, setOverview] = useState(undefined);
  const [messages, setMessages] = useState([]);
  const [typed, setTyped] = useState(eventId);
  const set = (changes) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "") next.delete(k);
      else next.set(k, v);
    }
    navigate(Object.fromEntries(next));
  };
  useLive(watch === "" ? ["flow"] : ["flow", "flow.messages"], (topic, data) => {
    if (topic === "flow") setOverview(data);
    else setMessages((list) => [data, ...list].slice(0, MAX_MESSAGES));
  });
  return html`
    <h2>Event flow</h2>
    ${
      overview === undefined
        ? html`<p class="status">Waiting for the first update…</p>`
        : html`
          <p class="summary">
            ${`${overview.types.length} event types, read at `}
            <time datetime=${overview.generatedAt}>${new Date(overview.generatedAt).toLocaleTimeString()}</time>.
            ${overview.traced ? "" : " This process keeps no spans: no stage times."}
          </p>
          <${FlowTable} overview=${overview} />`
    }
    <section aria-labelledby="live-heading">
      <h3 id="live-heading">Live messages</h3>
      <label for="watch-type">Event type to watch</label>
      <select id="watch-type" value=${watch} onChange=${(e) => set({ watch: e.currentTarget.value })}>
        <option value="">None (not watching)</option>
        <option value="*">Every type</option>
        ${(overview?.types ?? []).map((t) => html`<option key=${t.type} value=${t.type}>${t.type}</option>`)}
      </select>
      ${
        watch === ""
          ? html`<p class="status">Choose a type to watch its messages as they are published; fields marked sensitive read [redacted].</p>`
          : html`<${Messages}
            messages=${messages}
            watch=${watch}
            onPath=${(id) => {
              setTyped(id);
              set({ event: id });
            }}
          />`
      }
    </section>
    <section aria-labelledby="path-heading">
      <h3 id="path-heading">One event's path</h3>
      <form
        class="inline"
        onSubmit=${(e) => {
          e.preventDefault();
          set({ event: typed.trim() });
        }}
      >
        <label for="event-id">Event id</label>
        <input id="event-id" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)} />
        <button type="submit">Show its path</button>
      </form>
      ${eventId === "" ? "" : html`<${EventPath} key=${eventId} id=${eventId} />`}
    </section>
  `;
}
