// The Topology view: a graph of the services and the calls and events seen between them, a table of every
// instance (health, version, load, place), and, where spans are kept, the observed edges and pub/sub map in
// words. `#/topology?service=catalog` selects a service: its node is marked and its instances focused.
import { useLive } from "./api.js";
import { html, useEffect, useState } from "./preact-htm.js";
import { TopologyGraph } from "./topology-graph.js";
import { ObservedEdges, PubSubMap } from "./topology-observed.js";

const HEALTH_TEXT = { up: "up", degraded: "degraded", down: "down" };

function where(instance) {
  const place = `${instance.host} (pid ${instance.pid})`;
  return instance.endpoint === null ? place : `${place}, ${instance.endpoint}`;
}

function InstanceRows({ service, selected }) {
  if (service.instances.length === 0) {
    return html`
      <tr id=${`service-${service.name}`} tabindex="-1" class=${selected ? "selected" : undefined}>
        <th scope="row">${service.name}</th>
        <td colspan="6">no instance running</td>
      </tr>
    `;
  }
  return service.instances.map(
    (instance, i) => html`
      <tr
        id=${i === 0 ? `service-${service.name}` : undefined}
        tabindex=${i === 0 ? "-1" : undefined}
        class=${selected ? "selected" : undefined}
      >
        <th scope="row">${service.name}</th>
        <td>${instance.instance}</td>
        <td><span class=${`health ${instance.ready ? "up" : "down"}`}>${instance.ready ? "ready" : "not ready"}</span></td>
        <td>${instance.version ?? "—"}</td>
        <td>${instance.inFlight ?? "—"}</td>
        <td>${where(instance)}</td>
        <td>${instance.startedAt === null ? "—" : new Date(instance.startedAt).toLocaleString()}</td>
      </tr>
    `,
  );
}

/**
 * The view as the shell mounts it: the live topology, drawn by TopologyView. The observed edges come on a
 * topic of their own (read less often), followed once the topology says the server offers them.
 */
function LiveTopology({ query }) {
  const [topology, setTopology] = useState(undefined);
  const [observed, setObserved] = useState(undefined);
  const topics = topology?.observed ? ["topology", "topology-edges"] : ["topology"];
  useLive(topics, (event, data) => (event === "topology-edges" ? setObserved(data) : setTopology(data)));
  const selected = query.get("service") ?? undefined;
  useEffect(() => {
    if (topology !== undefined && selected !== undefined) document.getElementById(`service-${selected}`)?.focus();
  }, [selected, topology === undefined]);
  if (topology === undefined) return html`<h2>Topology</h2><p class="status">Waiting for the first update…</p>`;
  return html`<${TopologyView} topology=${topology} observed=${observed} selected=${selected} />`;
}

export default LiveTopology;

export function TopologyView({ topology, observed, selected }) {
  const instances = topology.services.reduce((n, s) => n + s.instances.length, 0);
  const down = topology.services.filter((s) => s.health !== "up");
  return html`
    <h2>Topology</h2>
    <p class="summary">
      ${`${topology.services.length} services, ${instances} instances, read from `}
      ${topology.source === "registry" ? "the service registry" : "this process"}${" at "}
      <time datetime=${topology.generatedAt}>${new Date(topology.generatedAt).toLocaleTimeString()}</time>.
      ${down.length === 0 ? " All healthy." : ` Not healthy: ${down.map((s) => `${s.name} (${HEALTH_TEXT[s.health]})`).join(", ")}.`}
    </p>
    <${TopologyGraph} topology=${topology} observed=${observed} selected=${selected} />
    <table class="instances">
      <caption>Instances by service</caption>
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Instance</th>
          <th scope="col">Health</th>
          <th scope="col">Version</th>
          <th scope="col">In flight</th>
          <th scope="col">Where</th>
          <th scope="col">Started</th>
        </tr>
      </thead>
      <tbody>
        ${topology.services.map((service) => html`<${InstanceRows} key=${service.name} service=${service} selected=${service.name === selected} />`)}
      </tbody>
    </table>
    ${
      topology.observed
        ? observed === undefined
          ? html`<p class="status">Reading the calls and events of recent traces…</p>`
          : html`<${ObservedEdges} observed=${observed} /><${PubSubMap} observed=${observed} />`
        : html`<p class="status">This process keeps no spans: calls and events between services are not shown.</p>`
    }
  `;
}
