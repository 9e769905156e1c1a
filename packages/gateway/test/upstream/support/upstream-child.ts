/** @module A test upstream in a process of its own, so a test can SIGKILL it: prints its URL, then serves. */
import { startTestUpstream } from "./test-upstream.js";

const upstream = await startTestUpstream(process.argv[2] ?? "child");
process.stdout.write(`${upstream.url}\n`);
