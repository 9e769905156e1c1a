/** @module For sibling packages (gateway, data, cli): building blocks that are not public API. */

export type { Failure } from "./outcome.js";
export { failureOf, OK } from "./outcome.js";
export { envPositiveInt, envText } from "./recorder/env-settings.js";
export { parentContext, remoteParent } from "./trace-bridge.js";
export { settle } from "./tracing.js";
