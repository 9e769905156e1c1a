/**
 * @module Launching server processes (nats-server, PostgreSQL, Flotilla instances): binaries, spawn with
 * a leak guard, readiness, graceful stop. Shared by the supervisor and @flotilla/testing's launchers.
 */
export { type OsUser, postgresEnv, postgresOsUser, resolveNatsServerBinary, resolvePgBinDir } from "./binaries.js";
export { freePort } from "./free-port.js";
export {
  canConnect,
  findExecutable,
  type Launched,
  type LaunchOptions,
  launch,
  onPath,
  removeDir,
  terminate,
  waitUntilReady,
} from "./process.js";
