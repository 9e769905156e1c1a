/** @module Child-process plumbing the launchers share, from the supervisor (one implementation for both). */
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
} from "@flotilla/supervisor/servers";
