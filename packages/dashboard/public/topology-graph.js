// The services as a graph: the gateway in the middle, each service on a ring around it, placed by name so a
// service keeps its place between updates. Observed calls are solid arrows and observed events dashed ones,
// each labelled with its rate, errors and latency; the routes declared at the gateway are faint dotted lines.
// Each service links to its instances through the hash router (`#/topology?service=catalog`).
import { html } from "./preact-htm.js";

const SIZE = 720;
const CENTER = SIZE / 2;
const RING = SIZE / 2 - 90;
const NODE_R = 14;
const GATEWAY_R = 34;
const BEND = 28;

function layout(names) {
  const places = new Map([["gateway", { x: CENTER, y: CENTER, r: GATEWAY_R }]]);
  names.forEach((name, i) => {
    const angle = (2 * Math.PI * i) / Math.max(names.length, 1) - Math.PI / 2;
    places.set(name, { x: CENTER + RING * Math.cos(angle), y: CENTER + RING * Math.sin(angle), r: NODE_R });
  });
  return places;
}

/**
 * A curve from node to node, bent to one side so that A→B and B→A (or a call and an event) do not overlap.
 * A curve between two services that would cross the gateway is bent round it, `clear` away from the centre.
 */
function curve(a, b, bend, clear) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  const [ux, uy] = [dx / length, dy / length];
  const [nx, ny] = [-uy, ux];
  const middle = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const across = (middle.x - CENTER) * nx + (middle.y - CENTER) * ny;
  const crossesGateway = a.r !== GATEWAY_R && b.r !== GATEWAY_R && Math.abs(across) < clear;
  // The curve's middle lies half the bend away from the chord's: bend twice the distance still to go.
  const bent = crossesGateway ? 2 * ((across < 0 ? -1 : 1) * clear - across) : bend;
  const start = { x: a.x + ux * (a.r + 2), y: a.y + uy * (a.r + 2) };
  const end = { x: b.x - ux * (b.r + 6), y: b.y - uy * (b.r + 6) };
  const control = { x: middle.x + nx * bent, y: middle.y + ny * bent };
  const mid = {
    x: 0.25 * start.x + 0.5 * control.x + 0.25 * end.x,
    y: 0.25 * start.y + 0.5 * control.y + 0.25 * end.y,
  };
  return { d: `M${start.x},${start.y} Q${control.x},${control.y} ${end.x},${end.y}`, mid };
}

export function percent(ratio) {
  return `${Math.round(ratio * 1000) / 10}%`;
}

export function callLabel(edge) {
  return `${edge.perMinute}/min, ${percent(edge.errorRatio)} errors, p95 ${Math.round(edge.p95Ms)} ms`;
}

/** The event edges of one publisher and consumer, drawn as one. */
function eventPairs(events) {
  const pairs = new Map();
  for (const edge of events) {
    const key = `${edge.from}\u0000${edge.to}`;
    const pair = pairs.get(key) ?? { from: edge.from, to: edge.to, types: [], perMinute: 0, errors: 0 };
    pair.types.push(edge.type);
    pair.perMinute += edge.perMinute;
    pair.errors += edge.errors;
    pairs.set(key, pair);
  }
  return [...pairs.values()];
}

export function TopologyGraph({ topology, observed, selected }) {
  const calls = observed?.calls ?? [];
  const events = eventPairs(observed?.events ?? []);
  const names = [
    ...new Set([
      ...topology.services.map((s) => s.name),
      ...calls.flatMap((e) => [e.from, e.to]),
      ...events.flatMap((e) => [e.from, e.to]),
    ]),
  ]
    .filter((n) => n !== "gateway")
    .sort();
  const places = layout(names);
  const services = new Map(topology.services.map((s) => [s.name, s]));
  const routed = topology.services.filter((s) => s.routed).map((s) => s.name);
  const title =
    `Services around the gateway. Observed: ${calls.length} call edges, ${events.length} event edges. ` +
    `The gateway routes requests to ${routed.join(", ") || "none of them"}.`;
  return html`
    <figure class="graph">
      <svg viewBox=${`0 0 ${SIZE} ${SIZE}`} role="group" aria-labelledby="graph-title">
        <title id="graph-title">${title}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path class="arrowhead" d="M0,0 L10,5 L0,10 z" />
          </marker>
        </defs>
        ${routed.map((name) => {
          const to = places.get(name);
          return html`<line key=${`route-${name}`} class="edge declared" x1=${CENTER} y1=${CENTER} x2=${to.x} y2=${to.y} />`;
        })}
        ${calls.map((edge) => {
          const { d, mid } = curve(places.get(edge.from), places.get(edge.to), BEND, edge.from < edge.to ? 90 : 120);
          return html`
            <g key=${`call-${edge.from}-${edge.to}-${edge.via}`} class=${`edge-observed call${edge.errors > 0 ? " failing" : ""}`}>
              <path d=${d} marker-end="url(#arrow)" />
              <text x=${mid.x} y=${mid.y} text-anchor="middle">${callLabel(edge)}</text>
            </g>
          `;
        })}
        ${events.map((pair) => {
          const { d, mid } = curve(places.get(pair.from), places.get(pair.to), -BEND, pair.from < pair.to ? 150 : 180);
          return html`
            <g key=${`event-${pair.from}-${pair.to}`} class=${`edge-observed event${pair.errors > 0 ? " failing" : ""}`}>
              <path d=${d} marker-end="url(#arrow)" />
              <text x=${mid.x} y=${mid.y} text-anchor="middle">
                ${`${pair.types.length === 1 ? pair.types[0].split(".").pop() : `${pair.types.length} events`}, ${Math.round(pair.perMinute * 100) / 100}/min`}
              </text>
            </g>
          `;
        })}
        <g class="node gateway">
          <circle cx=${CENTER} cy=${CENTER} r=${GATEWAY_R} />
          <text x=${CENTER} y=${CENTER + 4} text-anchor="middle">gateway</text>
        </g>
        ${names.map((name) => {
          const { x, y } = places.get(name);
          const service = services.get(name);
          const health = service?.health ?? "unknown";
          const count = service?.instances.length ?? 0;
          return html`
            <a
              key=${name}
              href=${`#/topology?service=${encodeURIComponent(name)}`}
              class=${`node ${health}${name === selected ? " selected" : ""}`}
              aria-label=${service === undefined ? `${name}: seen in traces, not running here` : `${name}: ${health}, ${count} instances`}
              aria-current=${name === selected ? "true" : undefined}
            >
              <circle cx=${x} cy=${y} r=${NODE_R} />
              <text x=${x} y=${y + 30} text-anchor="middle">${name}</text>
              <text class="count" x=${x} y=${y + 44} text-anchor="middle">
                ${service === undefined ? "seen in traces" : `${count} × ${health}`}
              </text>
            </a>
          `;
        })}
      </svg>
      <figcaption>
        Solid arrows: calls seen in recent traces; dashed arrows: events delivered; faint dotted lines: routes
        declared at the gateway. The table "Observed calls and events" below says the same in words. Select a
        service to go to its instances.
      </figcaption>
    </figure>
  `;
}
