/** @module The Topology panel: `GET /_flotilla/api/topology` and the `topology` topic of the event stream. */
import type { Panel } from "./panel.js";
import { readTopology, type TopologySource } from "./topology.js";

export interface TopologyPanelOptions extends TopologySource {
  /** How often the `topology` topic sends it (2,000 ms). */
  readonly refreshMs?: number;
}

export function topologyPanel(options: TopologyPanelOptions): Panel {
  const read = () => readTopology(options);
  return {
    id: "topology",
    title: "Topology",
    routes: [{ method: "GET", path: "", handle: read }],
    topics: [{ name: "topology", everyMs: options.refreshMs ?? 2_000, read }],
  };
}
