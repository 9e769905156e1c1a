// The services as a graph: the gateway in the middle, each service on a ring around it, laid out by name
// so a service keeps its place between updates; an edge to each service the gateway routes to.
import { html } from "./preact-htm.js";

const SIZE = 520;
const CENTER = SIZE / 2;
const RING = SIZE / 2 - 70;

function layout(services) {
  return services.map((service, i) => {
    const angle = (2 * Math.PI * i) / Math.max(services.length, 1) - Math.PI / 2;
    return { service, x: CENTER + RING * Math.cos(angle), y: CENTER + RING * Math.sin(angle) };
  });
}

export function TopologyGraph({ topology }) {
  const nodes = layout(topology.services);
  const routed = nodes.filter((n) => n.service.routed).map((n) => n.service.name);
  return html`
    <figure class="graph">
      <svg viewBox=${`0 0 ${SIZE} ${SIZE}`} role="group" aria-labelledby="graph-title">
        <title id="graph-title">Services around the gateway; the gateway routes requests to ${routed.join(", ") || "none of them"}</title>
        ${nodes
          .filter((n) => n.service.routed)
          .map((n) => html`<line class="edge" x1=${CENTER} y1=${CENTER} x2=${n.x} y2=${n.y} />`)}
        <g class="node gateway">
          <circle cx=${CENTER} cy=${CENTER} r="34" />
          <text x=${CENTER} y=${CENTER + 4} text-anchor="middle">gateway</text>
        </g>
        ${nodes.map(
          (n) => html`
            <a
              href=${`#service-${n.service.name}`}
              class=${`node ${n.service.health}`}
              aria-label=${`${n.service.name}: ${n.service.health}, ${n.service.instances.length} instances`}
            >
              <circle cx=${n.x} cy=${n.y} r="14" />
              <text x=${n.x} y=${n.y + 30} text-anchor="middle">${n.service.name}</text>
              <text class="count" x=${n.x} y=${n.y + 44} text-anchor="middle">
                ${n.service.instances.length} × ${n.service.health}
              </text>
            </a>
          `,
        )}
      </svg>
      <figcaption>Edges: routes declared at the gateway. Select a service to go to its instances.</figcaption>
    </figure>
  `;
}
