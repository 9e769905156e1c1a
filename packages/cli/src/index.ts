/** @module The `flotilla` command's building blocks: apps and running them. */

export type { FlotillaApp } from "./app.js";
export { defineApp } from "./app.js";
export type { RunningApp, RunOptions } from "./run-app.js";
export { runApp } from "./run-app.js";
export { stopOnSignals } from "./stop-on-signals.js";
