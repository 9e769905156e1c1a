/**
 * @module The public port of a supervised gateway: accepts TCP connections and forwards each, round
 * robin, to a ready gateway instance (Node 20 has no SO_REUSEPORT). Instances being drained get no new
 * connections; the connections they have finish as the instance drains.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A gateway instance's address. */
export interface Backend {
  readonly host: string;
  readonly port: number;
}

/** Counts of what the balancer did, for metrics. */
export interface BalancerStats {
  accepted: number;
  /** Connections closed at once because no gateway instance was ready. */
  refused: number;
}

/** Forwards connections on `port` to whatever `backends()` returns at the time of each connection. */
export class Balancer {
  readonly stats: BalancerStats = { accepted: 0, refused: 0 };
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;

  constructor(private readonly backends: () => readonly Backend[]) {
    this.server = createServer((client) => this.forward(client));
  }

  /** Listens on host:port (0 picks a free port); resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        const address = this.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  /** Stops accepting and closes every forwarded connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private forward(client: Socket): void {
    const backends = this.backends();
    if (backends.length === 0) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    const backend = backends[this.next++ % backends.length] as Backend;
    const upstream = createConnection({ host: backend.host, port: backend.port });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.once("close", () => this.sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.once("error", () => upstream.destroy());
    upstream.once("error", () => client.destroy());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  }
}
