// The Topology view's text of what was observed: the calls and events between services (the graph's edges
// in words) and the pub/sub map, each mismatch with the declarations said in a sentence.
import { html } from "./preact-htm.js";
import { percent } from "./topology-graph.js";

function minutes(ms) {
  return `${Math.round(ms / 60000)} minutes`;
}

export function ObservedEdges({ observed }) {
  const rows = [
    ...observed.calls.map((e) => ({
      key: `call ${e.from} ${e.to} ${e.via}`,
      edge: `${e.from} → ${e.to}`,
      what: e.via === "saga" ? `saga steps: ${e.actions.join(", ")}` : `calls: ${e.actions.join(", ")}`,
      count: `${e.calls} calls, ${e.perMinute}/min`,
      errors: `${e.errors} (${percent(e.errorRatio)})`,
      latency: `p50 ${e.p50Ms} ms, p95 ${e.p95Ms} ms`,
    })),
    ...observed.events.map((e) => ({
      key: `event ${e.from} ${e.to} ${e.type}`,
      edge: `${e.from} → ${e.to}`,
      what: `event ${e.type} (${e.groups.join(", ")})`,
      count: `${e.deliveries} deliveries, ${e.perMinute}/min`,
      errors: `${e.errors} (${percent(e.errorRatio)})`,
      latency: "—",
    })),
  ];
  return html`
    <table class="instances observed-edges">
      <caption>Observed calls and events</caption>
      <thead>
        <tr>
          <th scope="col">From → to</th>
          <th scope="col">What</th>
          <th scope="col">Traffic</th>
          <th scope="col">Errors</th>
          <th scope="col">Latency</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length === 0
            ? html`<tr><td colspan="5">No call or event between services in the last ${minutes(observed.windowMs)}.</td></tr>`
            : rows.map(
                (r) => html`
                <tr key=${r.key}>
                  <th scope="row">${r.edge}</th>
                  <td>${r.what}</td>
                  <td>${r.count}</td>
                  <td>${r.errors}</td>
                  <td>${r.latency}</td>
                </tr>
              `,
              )
        }
      </tbody>
    </table>
    <p class="summary">Read from ${observed.spans} spans of the last ${minutes(observed.windowMs)}.</p>
  `;
}

function names(list) {
  return list.length === 0 ? "none" : list.join(", ");
}

export function PubSubMap({ observed }) {
  const flagged = observed.pubsub.filter((e) => e.mismatches.length > 0).length;
  return html`
    <table class="instances pubsub">
      <caption>Pub/sub map: who publishes and who consumes each event type (${flagged} with mismatches)</caption>
      <thead>
        <tr>
          <th scope="col">Event type</th>
          <th scope="col">Declared by</th>
          <th scope="col">Published by</th>
          <th scope="col">Consumed by</th>
          <th scope="col">Subscribed (declared)</th>
          <th scope="col">Mismatches</th>
        </tr>
      </thead>
      <tbody>
        ${observed.pubsub.map(
          (e) => html`
            <tr key=${e.type} class=${e.mismatches.length > 0 ? "mismatch" : undefined}>
              <th scope="row">${e.type}</th>
              <td>${e.declaredBy ?? "no contract"}</td>
              <td>${names(e.publishers.map((p) => `${p.service} (${p.published})`))}</td>
              <td>${names(e.consumers.map((c) => `${c.group} (${c.deliveries})`))}</td>
              <td>${names(e.subscribers.map((s) => s.group))}</td>
              <td>
                ${
                  e.mismatches.length === 0
                    ? "none"
                    : html`<ul>${e.mismatches.map((m, i) => html`<li key=${`${m.kind}-${i}`}><strong>Mismatch:</strong> ${m.text}</li>`)}</ul>`
                }
              </td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}
