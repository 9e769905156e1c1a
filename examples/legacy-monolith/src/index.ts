/** @module The legacy monolith the shop strangles: start it in a process of your own (the embedded shop does). */
export type { LegacyMonolith, LegacyOptions } from "./legacy-server.js";
export { startLegacyMonolith, USER_HEADER } from "./legacy-server.js";
export type { Review } from "./reviews-db.js";
