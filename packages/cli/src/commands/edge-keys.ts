/** @module `flotilla edge-keys`: the key file the gateway signs callers with and services verify them with. */
import { existsSync } from "node:fs";
import { edgeKeysPath } from "@flotilla/app";
import { createEdgeKeysFile, publicEdgeKeys, rotateEdgeKeys } from "@flotilla/auth";
import { dataDirFrom } from "@flotilla/data/internal";
import { parseOptions, UsageError } from "../options.js";
import { EDGE_KEYS_USAGE } from "../usage.js";

export async function edgeKeys(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    file: { type: "string" },
    "data-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(EDGE_KEYS_USAGE);
    return;
  }
  const [verb, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  const path = edgeKeysPath(dataDirFrom(values["data-dir"]), values.file);
  switch (verb) {
    case "create": {
      if (existsSync(path)) throw new UsageError(`${path} exists already; "rotate" adds a key to it`);
      const keys = await createEdgeKeysFile(path);
      console.log(`created ${path}; signing key ${keys.signing?.kid}`);
      return;
    }
    case "rotate": {
      const keys = await rotateEdgeKeys(path);
      const old = [...keys.verifying.keys()].filter((kid) => kid !== keys.signing?.kid);
      console.log(`${path}: new signing key ${keys.signing?.kid}; still verifying ${old.join(", ") || "none"}`);
      console.log(
        "restart services, then gateways; remove the old keys from the file once their assertions expired (5 min)",
      );
      return;
    }
    case "public": {
      process.stdout.write(`${JSON.stringify(await publicEdgeKeys(path), null, 2)}\n`);
      return;
    }
    default:
      throw new UsageError(verb === undefined ? "no action given" : `unknown action "${verb}"`);
  }
}
