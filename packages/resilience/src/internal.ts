/** @module For sibling packages: how resilience classifies failures. */
export { countsAgainstInstance, isDependencyFailure } from "./failures.js";
