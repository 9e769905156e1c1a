/**
 * @module Uploads a large body to the gateway from its own process and prints the answer as JSON. A client in
 * the gateway's process takes turns with it on one event loop and hides the race a real client loses (the
 * socket reset arriving before the answer is read), so these uploads run here.
 * Usage: `node upload-client.mjs <url> <fetch|http> <length|chunked> <bytes>`.
 */
import { request } from "node:http";
import { Readable } from "node:stream";

const [url, client, framing, bytes] = process.argv.slice(2);
const size = Number(bytes);
const chunk = Buffer.alloc(64 * 1024, 0x20);
const headers = { "content-type": "application/json" };

async function viaFetch() {
  const body =
    framing === "chunked"
      ? new ReadableStream({
          start(controller) {
            for (let sent = 0; sent < size; sent += chunk.length) controller.enqueue(chunk);
            controller.close();
          },
        })
      : Buffer.alloc(size, 0x20);
  const res = await fetch(url, { method: "POST", headers, body, duplex: "half" });
  return { status: res.status, body: await res.text() };
}

/** One buffer for a Content-Length upload, a stream of chunks for a chunked one: the ways Node code uploads. */
function viaHttp() {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: framing === "chunked" ? headers : { ...headers, "content-length": size },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    // Once the answer is in, the server may stop reading: a write error after it changes nothing.
    req.on("error", (err) => setTimeout(() => reject(err), 100));
    if (framing === "chunked") Readable.from(chunks()).pipe(req);
    else req.end(Buffer.alloc(size, 0x20));
  });
}

function* chunks() {
  for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
}

try {
  console.log(JSON.stringify(await (client === "fetch" ? viaFetch() : viaHttp())));
} catch (err) {
  console.log(JSON.stringify({ error: err.cause?.code ?? err.code ?? String(err) }));
}
