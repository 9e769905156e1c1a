// The Topology view: a graph of the services and a table of every instance, with health, version, load and place.
import { useLive } from "./api.js";
import { html, useState } from "./preact-htm.js";
import { TopologyGraph } from "./topology-graph.js";

const HEALTH_TEXT = { up: "up", degraded: "degraded", down: "down" };

function where(instance) {
  const place = `${instance.host} (pid ${instance.pid})`;
  return instance.endpoint === null ? place : `${place}, ${instance.endpoint}`;
}

function InstanceRows({ service }) {
  if (service.instances.length === 0) {
    return html`
      <tr id=${`service-${service.name}`} tabindex="-1">
        <th scope="row">${service.name}</th>
        <td colspan="6">no instance running</td>
      </tr>
    `;
  }
  return service.instances.map(
    (instance, i) => html`
      <tr id=${i === 0 ? `service-${service.name}` : undefined} tabindex=${i === 0 ? "-1" : undefined}>
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

/** The view as the shell mounts it: the live topology, drawn by TopologyView. */
function LiveTopology() {
  const [topology, setTopology] = useState(undefined);
  useLive(["topology"], (_event, data) => setTopology(data));
  if (topology === undefined) return html`<h2>Topology</h2><p class="status">Waiting for the first update…</p>`;
  return html`<${TopologyView} topology=${topology} />`;
}

export default LiveTopology;

export function TopologyView({ topology }) {
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
    <${TopologyGraph} topology=${topology} />
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
        ${topology.services.map((service) => html`<${InstanceRows} key=${service.name} service=${service} />`)}
      </tbody>
    </table>
  `;
}
