// The dashboard's shell: the navigation between the views the server offers, the admin token form when the
// API refuses, and the stream's status line. Each view is the default export of `<id>-view.js`, loaded
// when first shown; its place and its search live in the URL's hash (`#/traces?service=orders`), so a
// reload, a link or the back button bring them back.
import { getJson, savedToken, saveToken, whenRefused, whenStreamState } from "./api.js";
import { html, render, useEffect, useState } from "./preact-htm.js";

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

/** `#/traces?service=orders` → { id: "traces", query: URLSearchParams }. */
function readHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const mark = hash.indexOf("?");
  const id = mark < 0 ? hash : hash.slice(0, mark);
  return { id, query: new URLSearchParams(mark < 0 ? "" : hash.slice(mark + 1)) };
}

/** Goes to a view (and its search): a new history entry, so Back returns to the previous one. */
export function navigate(id, query) {
  const search = query === undefined ? "" : new URLSearchParams(query).toString();
  location.hash = `#/${id}${search === "" ? "" : `?${search}`}`;
}

function useHash() {
  const [where, setWhere] = useState(readHash());
  useEffect(() => {
    const changed = () => setWhere(readHash());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return where;
}

const loaded = new Map();

/** The view module of a panel, loaded once. */
function useView(id) {
  const [view, setView] = useState(() => loaded.get(id));
  useEffect(() => {
    if (id === undefined) return;
    if (loaded.has(id)) {
      setView(loaded.get(id));
      return;
    }
    setView(undefined);
    import(`./${id}-view.js`).then((module) => {
      loaded.set(id, module.default);
      setView(() => module.default);
    });
  }, [id]);
  return view;
}

function App() {
  const [panels, setPanels] = useState(undefined);
  const [refused, setRefused] = useState(undefined);
  const [state, setState] = useState("connecting");
  const [attempt, setAttempt] = useState(0);
  const where = useHash();
  useEffect(() => {
    whenRefused(setRefused);
    whenStreamState(setState);
    getJson("panels").then(
      (body) => setPanels(body.panels),
      (err) => {
        if (err.status !== 401 && err.status !== 403) setState("reconnecting");
      },
    );
  }, [attempt]);
  const current = panels?.find((p) => p.id === where.id) ?? panels?.[0];
  const View = useView(refused === undefined ? current?.id : undefined);
  useEffect(() => {
    if (current !== undefined) document.title = `${current.title} · Flotilla dashboard`;
  }, [current?.id]);
  const retry = () => {
    setRefused(undefined);
    setAttempt(attempt + 1);
  };
  return html`
    <header class="bar">
      <h1>Flotilla</h1>
      <nav aria-label="Views">
        ${(panels ?? []).map(
          (p) =>
            html`<a key=${p.id} href=${`#/${p.id}`} aria-current=${p.id === current?.id ? "page" : undefined}>${p.title}</a>`,
        )}
      </nav>
      <p class="live" role="status" aria-live="polite">${state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"}</p>
    </header>
    <main id="view" tabindex="-1">
      ${
        refused !== undefined
          ? html`<${TokenForm} error=${refused} onToken=${retry} />`
          : View === undefined || current === undefined
            ? html`<p class="status">Loading…</p>`
            : html`<${View} key=${current.id} query=${where.query} navigate=${(query) => navigate(current.id, query)} />`
      }
    </main>
  `;
}

const root = document.getElementById("app");
// The "Loading" placeholder goes: Preact keeps what it did not render.
root.replaceChildren();
render(html`<${App} />`, root);
