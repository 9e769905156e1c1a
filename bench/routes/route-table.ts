/**
 * @module The route tables of the route-count benchmark: N routes shaped like a real API's (versioned
 * prefixes, static paths, parameters, nested resources, several methods per path), always holding the
 * one measured route, and concrete GET paths that hit each GET route.
 */

/** The route every table has and the fixed-route load requests. */
export const MEASURED = { method: "GET", path: "/api/v1/products/:id", sample: "/api/v1/products/prod-42" } as const;

export interface RouteShape {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** fastify syntax, as a Flotilla route takes it. */
  readonly path: string;
  /** A concrete path this route matches (GET routes are what the random load requests). */
  readonly sample: string;
}

const RESOURCES = [
  "products",
  "orders",
  "customers",
  "invoices",
  "shipments",
  "carts",
  "reviews",
  "coupons",
  "warehouses",
  "suppliers",
  "payments",
  "refunds",
  "subscriptions",
  "categories",
  "brands",
  "stores",
] as const;
const SUBRESOURCES = ["items", "notes", "events", "attachments"] as const;

/** The routes of one resource, in the order a table takes them (a table stops mid-resource at its count). */
function resourceRoutes(k: number): RouteShape[] {
  const name = `${RESOURCES[k % RESOURCES.length]}${k < RESOURCES.length ? "" : Math.floor(k / RESOURCES.length)}`;
  const base = `/api/v${1 + (k % 3)}/${name}`;
  const sub = SUBRESOURCES[k % SUBRESOURCES.length];
  return [
    { method: "GET", path: base, sample: base },
    { method: "GET", path: `${base}/:id`, sample: `${base}/id-${k}` },
    { method: "POST", path: base, sample: base },
    { method: "GET", path: `${base}/:id/${sub}`, sample: `${base}/id-${k}/${sub}` },
    { method: "GET", path: `${base}/:id/${sub}/:itemId`, sample: `${base}/id-${k}/${sub}/item-${k}` },
    { method: "PATCH", path: `${base}/:id`, sample: `${base}/id-${k}` },
    { method: "DELETE", path: `${base}/:id`, sample: `${base}/id-${k}` },
    { method: "GET", path: `/internal/${name}/stats`, sample: `/internal/${name}/stats` },
  ];
}

/** `count` distinct routes, the measured one first. */
export function routeTable(count: number): RouteShape[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`a route table needs at least one route, not ${count}`);
  const table: RouteShape[] = [MEASURED];
  const seen = new Set([`${MEASURED.method} ${MEASURED.path}`]);
  for (let k = 0; table.length < count; k++) {
    for (const r of resourceRoutes(k)) {
      if (table.length === count) break;
      if (seen.has(`${r.method} ${r.path}`)) continue;
      seen.add(`${r.method} ${r.path}`);
      table.push(r);
    }
  }
  return table;
}

/** The table's GET samples in a fixed shuffled order (the same every run): what the random load requests. */
export function shuffledGetPaths(table: readonly RouteShape[]): string[] {
  const paths = table.filter((r) => r.method === "GET").map((r) => r.sample);
  let seed = 0x9e3779b9;
  const next = () => {
    // xorshift32: a fixed order, so every run and every count is hit the same way.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [paths[i], paths[j]] = [paths[j] as string, paths[i] as string];
  }
  return paths;
}
