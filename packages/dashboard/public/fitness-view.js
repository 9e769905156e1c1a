// The Architecture fitness view: the anti-patterns recent traces show (synchronous chains, chatty pairs,
// shared databases) and services the registry saw start together, each with the traces that show it.
// `#/fitness?kind=chatty-pair` keeps the chosen kind across reloads and links.
import { useLive } from "./api.js";
import { html, useState } from "./preact-htm.js";

const KINDS = {
  "sync-chain": "Synchronous chain longer than two hops",
  "chatty-pair": "Chatty pair",
  "shared-database": "Shared database",
  "deploy-together": "Deployed together",
};

function TraceLinks({ finding }) {
  if (finding.traces.length === 0) {
    return finding.occasions?.length
      ? html`started together at ${finding.occasions.map((at) => new Date(at).toLocaleString()).join("; ")}`
      : "—";
  }
  return html`
    <ul class="trace-links">
      ${finding.traces.map(
        (id) => html`
          <li key=${id}>
            <a href=${`#/traces?trace=${id}`} aria-label=${`Trace ${id}`}><code>${id.slice(0, 12)}…</code></a>
          </li>
        `,
      )}
    </ul>
  `;
}

function FitnessView({ query, navigate }) {
  const [report, setReport] = useState(undefined);
  useLive(["fitness"], (_event, data) => setReport(data));
  const kind = query.get("kind") ?? "";
  if (report === undefined) return html`<h2>Architecture fitness</h2><p class="status">Analysing recent traces…</p>`;
  const shown = report.findings.filter((f) => kind === "" || f.kind === kind);
  return html`
    <h2>Architecture fitness</h2>
    <p class="summary">
      ${`${report.findings.length} findings in ${report.traces} traces (${report.spans} spans) of the last ${Math.round(report.windowMs / 60000)} minutes, at `}
      <time datetime=${report.generatedAt}>${new Date(report.generatedAt).toLocaleTimeString()}</time>.
      ${
        report.deploysAssessed
          ? " Services deployed together: from the instance starts the registry showed while the dashboard ran."
          : " Services deployed together: not assessed, as there is no registry whose instances come and go."
      }
    </p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label for="fitness-kind">Kind of finding</label>
      <select id="fitness-kind" value=${kind} onChange=${(e) => navigate(e.currentTarget.value === "" ? {} : { kind: e.currentTarget.value })}>
        <option value="">All kinds</option>
        ${Object.entries(KINDS).map(([value, label]) => html`<option key=${value} value=${value}>${label}</option>`)}
      </select>
    </form>
    <table class="instances findings">
      <caption>Findings${kind === "" ? "" : `: ${KINDS[kind] ?? kind}`}</caption>
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col">Where</th>
          <th scope="col">Finding</th>
          <th scope="col">Seen</th>
          <th scope="col">Shown by</th>
        </tr>
      </thead>
      <tbody>
        ${
          shown.length === 0
            ? html`<tr><td colspan="5">No finding: the recent traces show none of these anti-patterns.</td></tr>`
            : shown.map(
                (f, i) => html`
                <tr key=${`${f.kind}-${f.services.join("-")}-${i}`}>
                  <th scope="row">${KINDS[f.kind] ?? f.kind}</th>
                  <td>${f.services.join(f.kind === "sync-chain" || f.kind === "chatty-pair" ? " → " : ", ")}</td>
                  <td>${f.text}</td>
                  <td>${f.kind === "deploy-together" ? `${f.count} times` : f.count === 1 ? "1 trace" : `${f.count} traces`}</td>
                  <td><${TraceLinks} finding=${f} /></td>
                </tr>
              `,
              )
        }
      </tbody>
    </table>
  `;
}

export default FitnessView;
