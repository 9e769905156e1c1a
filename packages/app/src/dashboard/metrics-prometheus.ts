/**
 * @module A strict reader of the Prometheus text format (version 0.0.4, what prom-client renders and every
 * ops port serves): samples with their labels and values. A line it cannot read fails the whole text, so a
 * scrape that is not Prometheus text (an HTML error page, a truncated answer) is never half-counted.
 */
import { FlotillaError } from "@flotilla/core";

/** One sample line: `name{label="value",…} value [timestamp]`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** The samples of a text, in order; comments (`# HELP`, `# TYPE`, any `#` line) and blank lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      samples.push(parseSample(line));
    } catch (err) {
      throw new FlotillaError(
        "INVALID_ARGUMENT",
        `not Prometheus text at line ${i + 1}: ${(err as Error).message} (${line.slice(0, 80)})`,
      );
    }
  }
  return samples;
}

function parseSample(line: string): PromSample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error("no metric name");
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith("}")) {
        rest = rest.slice(1);
        break;
      }
      const label = LABEL_NAME.exec(rest)?.[0];
      if (label === undefined) throw new Error("a label without a name");
      rest = rest.slice(label.length).trimStart();
      if (!rest.startsWith("=")) throw new Error(`label ${label} without ="value"`);
      rest = rest.slice(1).trimStart();
      if (!rest.startsWith('"')) throw new Error(`label ${label} without ="value"`);
      const [value, after] = readQuoted(rest.slice(1));
      if (label in labels) throw new Error(`label ${label} twice`);
      labels[label] = value;
      rest = after.trimStart();
      if (rest.startsWith(",")) rest = rest.slice(1);
      else if (!rest.startsWith("}")) throw new Error("labels not closed");
    }
  }
  if (!/^[ \t]/.test(rest)) throw new Error("no space before the value");
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2) throw new Error("more than a value and a timestamp");
  if (fields.length === 2 && !/^-?\d+$/.test(fields[1] as string))
    throw new Error("a timestamp that is not an integer");
  return { name, labels, value: parseValue(fields[0] as string) };
}

/** A label value up to its closing quote, with `\\`, `\"` and `\n` unescaped; answers the value and what follows. */
function readQuoted(text: string): [string, string] {
  let value = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [value, text.slice(i + 1)];
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = text[++i];
    if (next === "n") value += "\n";
    else if (next === "\\" || next === '"') value += next;
    else throw new Error(`an unknown escape \\${next ?? ""}`);
  }
  throw new Error("a label value without its closing quote");
}

function parseValue(text: string): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  // Number("") is 0 and Number("0x10") is 16: only the float syntax Prometheus writes is taken.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`a value that is not a number: ${text}`);
  return Number(text);
}
