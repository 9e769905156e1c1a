import type { Transport } from "@flotilla/core";
import { startNatsServer, transportConformance } from "@flotilla/testing";
import { NatsTransport } from "../src/index.js";

transportConformance({
  name: "nats",
  maxPayloadBytes: 1024 * 1024,
  async setup() {
    const server = await startNatsServer();
    const transports: NatsTransport[] = [];
    const connect = async () => {
      const transport = new NatsTransport({ servers: `127.0.0.1:${server.port}` });
      await transport.connect();
      transports.push(transport);
      return transport;
    };
    const reader = await connect();
    return {
      transport: (): Promise<Transport> => connect(),
      deadLetters: (group) => reader.deadLetterStore.list(group),
      async teardown() {
        await Promise.all(transports.map((t) => t.close()));
        await server.stop();
      },
    };
  },
});
