// The supervisor's part of the Metrics view: each unit's instances over time, the scale decisions with their
// reasons, and the admin actions (scale a unit, restart it), each confirmed first and answered in a status
// region. Shown when the dashboard is linked to the supervisor running the system (`flotilla up`).
import { postJson, useJson } from "./api.js";
import { Chart, column, wholeTicks } from "./metrics-chart.js";
import { html, useState } from "./preact-htm.js";

function newest(...views) {
  return views.filter((v) => v !== undefined).sort((a, b) => b.readAt - a.readAt)[0];
}

function UnitsTable({ units }) {
  return html`
    <table class="instances">
      <caption>Deployment units</caption>
      <thead>
        <tr>
          <th scope="col">Unit</th>
          <th scope="col">Services</th>
          <th scope="col">Wanted</th>
          <th scope="col">Ready</th>
          <th scope="col">Range</th>
          <th scope="col">Health</th>
          <th scope="col">Restarts</th>
        </tr>
      </thead>
      <tbody>
        ${units.map(
          (u) => html`
            <tr key=${u.name} data-unit=${u.name}>
              <th scope="row">${u.name}</th>
              <td>${[...(u.gateway ? ["gateway"] : []), ...u.services].join(", ") || "—"}</td>
              <td class="wanted">${u.desired}</td>
              <td>${u.ready}</td>
              <td>${u.min === u.max ? `${u.min} (fixed)` : `${u.min} to ${u.max}`}</td>
              <td>${u.health}</td>
              <td>${u.restarts}</td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

function Decisions({ decisions }) {
  return html`
    <h3 id="decisions-heading">Scale decisions</h3>
    ${
      decisions.length === 0
        ? html`<p class="status">No decision yet.</p>`
        : html`
          <ol class="decisions" aria-labelledby="decisions-heading">
            ${decisions.map(
              (d) => html`
                <li key=${`${d.at} ${d.unit} ${d.to}`}>
                  <time datetime=${new Date(d.at).toISOString()}>${new Date(d.at).toLocaleTimeString()}</time>
                  ${` ${d.unit}: ${d.from} → ${d.to} instances (${d.signal}). `}<span class="reason">${d.reason}</span>
                </li>
              `,
            )}
          </ol>
        `
    }
  `;
}

/** A form whose action is confirmed in place (no browser dialog) before it is sent. */
function ActionForm(props) {
  if (props.units.length === 0) {
    return html`<p class="status">${props.legend}: no unit can be (each runs a fixed number of instances).</p>`;
  }
  return html`<${ActionFields} ...${props} />`;
}

function ActionFields({ id, legend, units, withCount, describe, send, onDone }) {
  const [unit, setUnit] = useState(units[0]?.name ?? "");
  const current = units.find((u) => u.name === unit) ?? units[0];
  const [count, setCount] = useState(String(current?.desired ?? 1));
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState("");
  const wanted = Number(count);
  const submit = (e) => {
    e.preventDefault();
    setResult("");
    setAsking(true);
  };
  const confirm = async () => {
    setAsking(false);
    setBusy(true);
    setResult(`${legend}: sent, waiting for the supervisor…`);
    try {
      const answer = await send(current.name, wanted);
      setResult(answer.text);
      onDone(answer.scaling);
    } catch (err) {
      setResult(`Refused: ${err.code}: ${err.message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="metrics-action" id=${id} onSubmit=${submit}>
      <fieldset disabled=${busy}>
        <legend>${legend}</legend>
        <label for=${`${id}-unit`}>Unit</label>
        <select
          id=${`${id}-unit`}
          value=${current?.name ?? ""}
          onChange=${(e) => {
            setUnit(e.currentTarget.value);
            setCount(String(units.find((u) => u.name === e.currentTarget.value)?.desired ?? 1));
            setAsking(false);
          }}
        >
          ${units.map((u) => html`<option key=${u.name} value=${u.name}>${u.name}</option>`)}
        </select>
        ${
          withCount
            ? html`
              <label for=${`${id}-count`}>Instances</label>
              <input
                id=${`${id}-count`}
                type="number"
                min=${current?.min ?? 0}
                max=${current?.max ?? 1}
                step="1"
                required
                value=${count}
                onInput=${(e) => {
                  setCount(e.currentTarget.value);
                  setAsking(false);
                }}
              />
            `
            : null
        }
        <button type="submit">${legend}…</button>
      </fieldset>
      ${
        asking && current !== undefined
          ? html`
            <div class="confirm" role="group" aria-labelledby=${`${id}-question`}>
              <p id=${`${id}-question`}>${describe(current, wanted)}</p>
              <button type="button" onClick=${confirm}>Confirm</button>
              <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
            </div>
          `
          : null
      }
      <p class="status" role="status" aria-live="polite" id=${`${id}-result`}>${result}</p>
    </form>
  `;
}

/** `live`: the latest `scaling` event; the first read and each action's answer count too, the newest wins. */
export function Scaling({ live }) {
  const first = useJson("metrics/scaling");
  const [answered, setAnswered] = useState(undefined);
  const view = newest(live, first.data, answered);
  if (view === undefined) {
    return html`<h2>Scaling</h2><p class="status">${first.error ? `Cannot read the supervisor: ${first.error.message}` : "Reading the supervisor…"}</p>`;
  }
  const scale = async (unit, instances) => {
    const { decision, scaling } = await postJson("metrics/scale", { unit, instances });
    return { text: `Scaled ${decision.unit} from ${decision.from} to ${decision.to} instances.`, scaling };
  };
  const restart = async (unit) => {
    const answer = await postJson("metrics/restart", { unit });
    return { text: `Restarted ${answer.restarted}: every instance was replaced.`, scaling: answer.scaling };
  };
  return html`
    <section aria-labelledby="scaling-heading">
      <h2 id="scaling-heading">Scaling</h2>
      <p class="summary">
        ${`The supervisor running ${view.app ?? "the app"}: ${view.units.length} ${view.units.length === 1 ? "unit" : "units"}.`}
        ${view.error === undefined ? "" : ` It could not be read just now (${view.error}); this is its last status.`}
      </p>
      <${UnitsTable} units=${view.units} />
      <div class="charts">
        ${view.units.map(
          (u) => html`
            <${Chart}
              key=${u.name}
              id=${`unit-${u.name}`}
              title=${`${u.name}: instances over time`}
              lines=${[{ label: "wanted" }, { label: "ready" }]}
              data=${[column(u.points, 0), column(u.points, 1), column(u.points, 2)]}
              unit=${wholeTicks}
              summary=${`${u.name}: ${u.desired} wanted, ${u.ready} ready (${u.health}).`}
            />
          `,
        )}
      </div>
      <${Decisions} decisions=${view.decisions} />
      <div class="metrics-actions">
        <${ActionForm}
          id="scale"
          legend="Scale"
          units=${view.units.filter((u) => u.min !== u.max)}
          withCount=${true}
          describe=${(u, n) => `Scale ${u.name} from ${u.desired} to ${n} instances?`}
          send=${scale}
          onDone=${setAnswered}
        />
        <${ActionForm}
          id="restart"
          legend="Restart"
          units=${view.units}
          withCount=${false}
          describe=${(u) => `Restart every instance of ${u.name}, one at a time?`}
          send=${restart}
          onDone=${setAnswered}
        />
      </div>
    </section>
  `;
}
