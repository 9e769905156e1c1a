/** @module The supervisor behind `flotilla up`: runs an app's deployment units as processes, heals and scales them. */
// Hot reload (flotilla dev, docs/hot-reload.md).
export * from "./dev/index.js";
