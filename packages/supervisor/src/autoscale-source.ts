/** @module The autoscaler and signal source the supervisor's loop uses by default: one import to switch. */
export {
  Autoscaler,
  type ScaleDecision,
  type SignalSource,
  signalSource,
  type UnitSignals,
} from "./autoscale-placeholder.js";
