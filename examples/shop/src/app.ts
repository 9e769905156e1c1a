/** @module Assembles the shop: its services on one host, their databases, and the gateway in front. */
import { createHost, type Host, type ServiceDefinition } from "@flotilla/core";
import { sqliteDatabases } from "@flotilla/data";
import { createGateway, type Gateway } from "@flotilla/gateway";
import type { Logger } from "pino";
import { shopRoutes } from "./routes.js";
import { catalogService } from "./services/catalog/service.js";
import { ordersService } from "./services/orders/service.js";

export const shopServices: readonly ServiceDefinition[] = [catalogService, ordersService];

export interface ShopOptions {
  port?: number;
  /** Interface to listen on (default `localhost`). */
  listenHost?: string;
  /** Directory of the services' SQLite files (default FLOTILLA_DATA_DIR, else `.flotilla/data`). */
  dataDir?: string;
  /** Transport URL; embedded by default, serializing messages as the network would. */
  transport?: string;
  logger?: Logger;
}

export interface Shop {
  readonly host: Host;
  readonly gateway: Gateway;
  readonly url: string;
  /** Stops the gateway (finishing requests in flight), then the services. */
  stop(): Promise<void>;
}

export async function startShop(options: ShopOptions = {}): Promise<Shop> {
  const host = createHost({
    services: shopServices,
    transport: options.transport ?? "memory://?faithful=1",
    resources: [sqliteDatabases(options.dataDir === undefined ? {} : { dataDir: options.dataDir })],
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await host.start();
  const gateway = createGateway({ host, routes: shopRoutes });
  const listenHost = options.listenHost ?? "localhost";
  let url: string;
  try {
    const address = new URL(await gateway.listen({ port: options.port ?? 8080, host: listenHost }));
    // Print the name the user asked for (localhost), not whichever of its addresses bound first.
    const shown = listenHost === "0.0.0.0" || listenHost === "::" ? "localhost" : listenHost;
    url = `http://${shown.includes(":") ? `[${shown}]` : shown}:${address.port}`;
  } catch (err) {
    await host.stop();
    throw err;
  }
  return {
    host,
    gateway,
    url,
    async stop() {
      await gateway.close();
      await host.stop();
    },
  };
}
