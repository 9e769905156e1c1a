// The Dead letters view: the letters (of one group, or all), a letter's error, redacted payload and history,
// Retry or Drop of the selected letters after a confirmation (each id's outcome shown), and the audit trail
// of those actions. The group filter and the letter shown live in the hash (`group`, `letter`).
import { postJson, useJson, useLive } from "./api.js";
import { html, useEffect, useRef, useState } from "./preact-htm.js";

function when(iso) {
  return html`<time datetime=${iso}>${new Date(iso).toLocaleString()}</time>`;
}

function AuditTable({ entries, caption }) {
  if (entries.length === 0) return html`<p class="status">${caption}: nothing yet.</p>`;
  return html`
    <table class="letters audit">
      <caption>${caption}</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Who</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(
          (e, i) => html`<tr key=${i}>
            <th scope="row">${when(new Date(e.at).toISOString())}</th>
            <td>${e.who}</td>
            <td>${e.action}</td>
            <td>${e.target}</td>
            <td>${e.outcome}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;
}

function LetterDetails({ id, round, onClose }) {
  const { data, error, reload } = useJson(`dead-letters/letter/${encodeURIComponent(id)}`);
  useEffect(() => reload(), [round]);
  const heading = useRef(null);
  useEffect(() => heading.current?.focus(), [data?.id]);
  if (error !== undefined) {
    return html`<section class="letter" aria-label=${`Dead letter ${id}`}>
      <p class="status">Dead letter ${id}: ${error.code === "NOT_FOUND" ? "gone (retried or dropped)." : error.message}</p>
      <button type="button" onClick=${onClose}>Close</button>
    </section>`;
  }
  if (data === undefined) return html`<p class="status">Reading dead letter ${id}…</p>`;
  return html`
    <section class="letter" aria-labelledby="letter-heading">
      <h3 id="letter-heading" tabindex="-1" ref=${heading}>Dead letter ${data.id}</h3>
      <dl>
        <dt>Group</dt><dd>${data.group}</dd>
        <dt>Error</dt><dd>${data.error.code}: ${data.error.message}</dd>
        <dt>Attempts</dt><dd>${data.attempts}, the last failed at ${when(data.failedAt)}</dd>
        <dt>Event</dt><dd>${data.event.type} ${data.event.id} from ${data.event.source}, published ${when(data.event.time)}</dd>
      </dl>
      <h4>Payload</h4>
      <pre class="payload">${JSON.stringify(data.event.data, null, 2)}</pre>
      <h4>Other letters of this event</h4>
      ${
        data.history.sameEvent.length === 0
          ? html`<p class="status">None.</p>`
          : html`<ul>${data.history.sameEvent.map((l) => html`<li key=${l.id}>Letter ${l.id} in ${l.group}, ${l.attempts} attempts, failed at ${when(l.failedAt)}</li>`)}</ul>`
      }
      <${AuditTable} entries=${data.history.audit} caption="Actions on letters of this event" />
      <button type="button" onClick=${onClose}>Close</button>
    </section>
  `;
}

function Confirm({ action, count, onConfirm, onCancel }) {
  const yes = useRef(null);
  useEffect(() => yes.current?.focus(), []);
  return html`
    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
      <p id="confirm-text">
        ${action === "retry" ? "Deliver again" : "Drop for good"} ${count} letter${count === 1 ? "" : "s"}?
      </p>
      <button type="button" ref=${yes} onClick=${onConfirm}>${action === "retry" ? "Yes, retry" : "Yes, drop"}</button>
      <button type="button" onClick=${onCancel}>Cancel</button>
    </div>
  `;
}

export default function DeadLettersView({ query, navigate }) {
  const group = query.get("group") ?? "";
  const shown = query.get("letter") ?? "";
  const list = useJson(`dead-letters${group === "" ? "" : `?group=${encodeURIComponent(group)}`}`);
  const audit = useJson("dead-letters/audit?limit=50");
  const [live, setLive] = useState(undefined);
  const [selected, setSelected] = useState(new Set());
  const [asking, setAsking] = useState(undefined);
  const [outcome, setOutcome] = useState("");
  const [round, setRound] = useState(0);
  const set = (changes) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "") next.delete(k);
      else next.set(k, v);
    }
    navigate(Object.fromEntries(next));
  };
  // The topic says when the letters changed (new ones, or actions elsewhere): the list is read again then.
  const lastTotal = useRef(undefined);
  useLive(["dead-letters"], (_topic, data) => {
    setLive(data);
    const key = `${data.total} ${data.newest[0]?.id ?? ""}`;
    if (lastTotal.current !== undefined && lastTotal.current !== key) list.reload();
    lastTotal.current = key;
  });
  const letters = list.data?.letters ?? [];
  const ids = [...selected].filter((id) => letters.some((l) => l.id === id));
  const toggle = (id) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const act = async (action) => {
    setAsking(undefined);
    try {
      const { results } = await postJson(`dead-letters/${action}`, { ids });
      const ok = results.filter((r) => r.outcome === "ok").length;
      const failed = results.filter((r) => r.outcome !== "ok");
      setOutcome(
        `${action === "retry" ? "Retried" : "Dropped"} ${ok} of ${results.length}.` +
          failed.map((r) => ` Letter ${r.id}: ${r.outcome}.`).join(""),
      );
    } catch (err) {
      setOutcome(`Nothing done: ${err.message}`);
    }
    setSelected(new Set());
    list.reload();
    audit.reload();
    setRound((r) => r + 1);
  };
  const groups = Object.keys(live?.counts ?? list.data?.counts ?? {}).sort();
  if (group !== "" && !groups.includes(group)) groups.push(group);
  return html`
    <h2>Dead letters</h2>
    <p class="summary">
      ${
        live === undefined
          ? "Counting…"
          : live.total === 0
            ? "No dead letters."
            : `${live.total} dead letter${live.total === 1 ? "" : "s"}: ${Object.entries(live.counts)
                .map(([g, n]) => `${g} ${n}`)
                .join(", ")}.`
      }
    </p>
    <div class="toolbar">
      <label for="letter-group">Group</label>
      <select id="letter-group" value=${group} onChange=${(e) => set({ group: e.currentTarget.value })}>
        <option value="">Every group</option>
        ${groups.map((g) => html`<option key=${g} value=${g}>${g}</option>`)}
      </select>
      <button type="button" disabled=${ids.length === 0} onClick=${() => setAsking("retry")}>Retry selected (${ids.length})</button>
      <button type="button" disabled=${ids.length === 0} onClick=${() => setAsking("drop")}>Drop selected (${ids.length})</button>
    </div>
    ${asking && html`<${Confirm} action=${asking} count=${ids.length} onConfirm=${() => act(asking)} onCancel=${() => setAsking(undefined)} />`}
    <p class="status" role="status">${outcome}</p>
    ${
      letters.length === 0
        ? html`<p class="status">${list.loading ? "Reading…" : "No dead letters here."}</p>`
        : html`
          <table class="letters">
            <caption>Dead letters${group === "" ? "" : ` of ${group}`}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Select</th>
                <th scope="col">Letter</th>
                <th scope="col">Group</th>
                <th scope="col">Event type</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
                <th scope="col">Failed at</th>
              </tr>
            </thead>
            <tbody>
              ${letters.map(
                (l) => html`<tr key=${l.id}>
                  <td>
                    <input type="checkbox" id=${`select-${l.id}`} checked=${selected.has(l.id)} onChange=${() => toggle(l.id)} />
                    <label for=${`select-${l.id}`} class="visually-hidden">Select letter ${l.id}</label>
                  </td>
                  <th scope="row"><a href=${`#/dead-letters?${new URLSearchParams({ ...(group ? { group } : {}), letter: l.id })}`}>Letter ${l.id}</a></th>
                  <td>${l.group}</td>
                  <td>${l.type}</td>
                  <td>${l.attempts}</td>
                  <td>${l.error.code}: ${l.error.message}</td>
                  <td>${when(l.failedAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${shown === "" ? "" : html`<${LetterDetails} key=${shown} id=${shown} round=${round} onClose=${() => set({ letter: "" })} />`}
    <h3>Audit trail</h3>
    <${AuditTable} entries=${audit.data?.entries ?? []} caption="Actions taken through the dashboard, newest first" />
  `;
}
