/**
 * @module The Topology panel: `GET /_flotilla/api/topology` and the `topology` topic of the event stream;
 * with an observed reader, `GET /_flotilla/api/topology/edges` and the `topology-edges` topic too.
 */
import type { Panel, Topic } from "./panel.js";
import { readTopology, type TopologySource } from "./topology.js";
import type { ObservedReader } from "./topology-observed.js";

export interface TopologyPanelOptions extends TopologySource {
  /** How often the `topology` topic sends it (2,000 ms). */
  readonly refreshMs?: number;
  /** The calls and events seen in recent spans; absent where no spans are kept (the view then shows none). */
  readonly observed?: ObservedReader | undefined;
  /** How often the `topology-edges` topic sends them (5,000 ms): they are read from many spans. */
  readonly edgesRefreshMs?: number;
}

export function topologyPanel(options: TopologyPanelOptions): Panel {
  const { observed } = options;
  const read = async () => ({ ...(await readTopology(options)), observed: observed !== undefined });
  const topics: Topic[] = [{ name: "topology", everyMs: options.refreshMs ?? 2_000, read }];
  if (observed !== undefined)
    topics.push({ name: "topology-edges", everyMs: options.edgesRefreshMs ?? 5_000, read: observed });
  return {
    id: "topology",
    title: "Topology",
    routes: [
      { method: "GET", path: "", handle: read },
      ...(observed === undefined ? [] : [{ method: "GET" as const, path: "/edges", handle: observed }]),
    ],
    topics,
  };
}
