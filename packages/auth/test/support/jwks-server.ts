/** @module A loopback HTTP server that serves a JWKS and an OIDC discovery document, counting every fetch. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";

export interface JwksServer {
  readonly url: string;
  /** Keys served at /jwks.json; replace to rotate. */
  keys: JWK[];
  /** Requests seen, by path. */
  readonly hits: Map<string, number>;
  hitsOf(path: string): number;
  /** Extra routes: path → [status, content type, body]. */
  readonly routes: Map<string, [number, string, string]>;
  close(): Promise<void>;
}

export async function startJwksServer(issuerOverride?: string): Promise<JwksServer> {
  let url = "";
  const hits = new Map<string, number>();
  const routes = new Map<string, [number, string, string]>();
  const state: JwksServer = {
    url: "",
    keys: [],
    hits,
    routes,
    hitsOf: (path) => hits.get(path) ?? 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const extra = routes.get(path);
    if (extra !== undefined) {
      res.writeHead(extra[0], { "content-type": extra[1] }).end(extra[2]);
    } else if (path === "/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
    } else if (path === "/.well-known/openid-configuration") {
      const doc = { issuer: issuerOverride ?? url, jwks_uri: `${url}/jwks.json` };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (state as { url: string }).url = url;
  return state;
}
