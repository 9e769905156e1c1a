/** @module `npm start`: runs the whole shop in one process, embedded, with no servers to install. */
import { resolve } from "node:path";
import { stopOnSignals } from "@flotilla/app";
import { startShop } from "./app.js";

const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}

// `npm start` runs this from the shop's folder; a relative data directory is taken from where the user
// ran npm (INIT_CWD), so `.flotilla/data` is the one `npx flotilla dlq` and `npx flotilla replay` use.
const dataDir = resolve(process.env.INIT_CWD ?? process.cwd(), process.env.FLOTILLA_DATA_DIR ?? ".flotilla/data");

const shop = await startShop({
  port,
  dataDir,
  listenHost: process.env.HOST ?? "localhost",
  dashboard: true,
  ...(process.env.FLOTILLA_TRANSPORT ? { transport: process.env.FLOTILLA_TRANSPORT } : {}),
});
console.log(`Flotilla shop listening on ${shop.url} (try ${shop.url}/api/v1/products)`);
console.log(`dashboard on ${shop.url}/_flotilla (for admins: sign in with POST /api/v1/auth/login, see the README)`);

stopOnSignals(shop, "shop");
