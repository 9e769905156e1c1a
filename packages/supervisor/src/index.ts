/** @module The supervisor behind `flotilla up`: runs an app's deployment units as processes, heals and scales them. */
export * from "./autoscale/index.js";
