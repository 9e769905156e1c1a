/** @module Free-port lookup, from the supervisor (one implementation for both). */
export { freePort } from "@flotilla/supervisor/servers";
