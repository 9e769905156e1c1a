// The dashboard's shell: the admin token form when the API refuses, the navigation, and the live topology.
import { follow, savedToken, saveToken } from "./api.js";
import { html, render, useEffect, useState } from "./preact-htm.js";
import { TopologyView } from "./topology-view.js";

function TokenForm({ error, onToken }) {
  const [token, setToken] = useState(savedToken());
  const submit = (e) => {
    e.preventDefault();
    saveToken(token.trim());
    onToken();
  };
  return html`
    <form class="token" onSubmit=${submit} aria-describedby="token-why">
      <p id="token-why" role="alert">
        ${error.status === 403 ? "This token is not an administrator's." : "The dashboard is for administrators."}
        Give an admin's bearer token (it stays in this tab only).
      </p>
      <label for="token-input">Admin bearer token</label>
      <input
        id="token-input"
        type="password"
        autocomplete="off"
        value=${token}
        onInput=${(e) => setToken(e.currentTarget.value)}
        required
      />
      <button type="submit">Open the dashboard</button>
    </form>
  `;
}

function App() {
  const [topology, setTopology] = useState(undefined);
  const [refused, setRefused] = useState(undefined);
  const [state, setState] = useState("connecting");
  const [attempt, setAttempt] = useState(0);
  useEffect(
    () =>
      follow(
        (event, data) => {
          if (event === "topology") setTopology(data);
        },
        (err) => {
          if (err.status === 401 || err.status === 403) setRefused(err);
          else setState("reconnecting");
        },
        setState,
      ),
    [attempt],
  );
  const retry = () => {
    setRefused(undefined);
    setAttempt(attempt + 1);
  };
  return html`
    <header class="bar">
      <h1>Flotilla</h1>
      <nav aria-label="Views">
        <a href="#topology" aria-current="page">Topology</a>
      </nav>
      <p class="live" role="status" aria-live="polite">${state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"}</p>
    </header>
    <main id="topology" tabindex="-1">
      ${
        refused !== undefined
          ? html`<${TokenForm} error=${refused} onToken=${retry} />`
          : topology === undefined
            ? html`<p class="status">Waiting for the first update…</p>`
            : html`<${TopologyView} topology=${topology} />`
      }
    </main>
  `;
}

const root = document.getElementById("app");
// The "Loading" placeholder goes: Preact keeps what it did not render.
root.replaceChildren();
render(html`<${App} />`, root);
