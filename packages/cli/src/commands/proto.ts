/** @module `flotilla proto`: writes (or checks) the `.proto` of the app's routed actions, keeping field numbers. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { appProto } from "@flotilla/app";
import { loadApp } from "../load-app.js";
import { parseOptions, UsageError } from "../options.js";
import { PROTO_USAGE } from "../usage.js";

export async function proto(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    app: { type: "string" },
    out: { type: "string" },
    check: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(PROTO_USAGE);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const app = await loadApp(values.app);
  const out = values.out === undefined ? app.gateway?.grpc?.protoFile : resolve(values.out);
  if (out === undefined) throw new UsageError(`${app.name} names no gateway.grpc.protoFile: pass --out FILE`);
  const previous = existsSync(out) ? readFileSync(out, "utf8") : undefined;
  const text = appProto(app, previous);
  if (values.check) {
    if (text === previous) {
      console.log(`${out} is up to date`);
      return;
    }
    console.error(`${out} is not what the contracts give: run \`flotilla proto\` and commit it`);
    process.exitCode = 1;
    return;
  }
  writeFileSync(out, text);
  console.log(`${previous === text ? "unchanged" : "wrote"} ${out}`);
}
