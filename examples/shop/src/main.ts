/** @module `npm start`: runs the whole shop in one process, embedded, with no servers to install. */
import { startShop } from "./app.js";

const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}

const shop = await startShop({
  port,
  listenHost: process.env.HOST ?? "localhost",
  ...(process.env.FLOTILLA_TRANSPORT ? { transport: process.env.FLOTILLA_TRANSPORT } : {}),
});
console.log(`Flotilla shop listening on ${shop.url} (try ${shop.url}/api/v1/products)`);

const STOP_TIMEOUT_MS = 20_000;
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // npm and the terminal each deliver the signal, so repeats are expected: one stop, bounded in time.
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(`shop did not stop within ${STOP_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, STOP_TIMEOUT_MS).unref();
    shop.stop().then(
      () => {
        console.log("Flotilla shop stopped");
        process.exit(0);
      },
      (err: unknown) => {
        console.error("shop failed to stop cleanly", err);
        process.exit(1);
      },
    );
  });
}
