/**
 * @module The head sampler the standard variables ask for: `OTEL_TRACES_SAMPLER` and
 * `OTEL_TRACES_SAMPLER_ARG`, as the OpenTelemetry specification defines them, built from the SDK's own
 * samplers. An unknown sampler or a ratio outside [0, 1] is a configuration error, not a silent default.
 */
import { FlotillaCodes, FlotillaError } from "@flotilla/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";

const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/**
 * The sampler the variables name; undefined for the default, parent-based always-on, which the light
 * tracer decides without a sampler call.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler | undefined {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on").trim().toLowerCase();
  const ratio = () => {
    const arg = env.OTEL_TRACES_SAMPLER_ARG;
    if (arg === undefined || arg.trim() === "") return 1;
    const value = Number(arg);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, not "${arg}"`,
      );
    }
    return value;
  };
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio());
    case "parentbased_always_on":
      return undefined;
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw FlotillaError.of(
        FlotillaCodes.CONFIG,
        `OTEL_TRACES_SAMPLER "${name}" is not supported; use one of ${SAMPLERS.join(", ")}`,
      );
  }
}
