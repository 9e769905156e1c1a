/** @module `flotilla dlq`: lists, shows, retries and drops the dead letters of a running (or stopped) app. */

import { type AppEvents, openAppEvents } from "@flotilla/app/events";
import { FlotillaError, type StoredDeadLetter } from "@flotilla/core";
import { dataDirFrom } from "@flotilla/data/internal";
import { loadApp } from "../load-app.js";
import { COMMON_OPTIONS, parseOptions, transportOption, UsageError } from "../options.js";
import { table } from "../table.js";
import { DLQ_USAGE } from "../usage.js";

export async function dlq(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions(args, {
    ...COMMON_OPTIONS,
    group: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    process.stdout.write(DLQ_USAGE);
    return;
  }
  const [command, id, ...extra] = positionals;
  if (command === undefined) throw new UsageError("dlq needs a subcommand: list, show, retry or drop");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (command === "list") {
    if (id !== undefined) throw new UsageError(`dlq list takes no argument, got "${id}"`);
  } else if (["show", "retry", "drop"].includes(command)) {
    if (id === undefined) throw new UsageError(`dlq ${command} needs the letter's ID (see flotilla dlq list)`);
    if (values.group !== undefined) throw new UsageError("--group applies to dlq list only");
  } else {
    throw new UsageError(`unknown dlq subcommand "${command}" (list, show, retry or drop)`);
  }
  if (values.json && (command === "retry" || command === "drop")) {
    throw new UsageError(`--json applies to dlq list and dlq show only`);
  }
  if (values.group !== undefined && values.app !== undefined) await checkGroup(values.app, values.group);

  const events = await openAppEvents(transportOption(values.transport), dataDirFrom(values["data-dir"]));
  try {
    if (command === "list") await list(events, values.group, values.json === true);
    else if (command === "show") await show(events, id as string, values.json === true);
    else if (command === "retry") await retry(events, id as string);
    else await drop(events, id as string);
  } finally {
    await events.close();
  }
}

async function list(events: AppEvents, group: string | undefined, json: boolean): Promise<void> {
  const letters = await events.deadLetters.list(group);
  if (json) {
    console.log(JSON.stringify(letters, null, 2));
    return;
  }
  if (letters.length === 0) {
    console.log(group === undefined ? "no dead letters" : `no dead letters in ${group}`);
    return;
  }
  const rows = letters.map((l) => [
    l.id,
    l.group,
    l.event.type,
    l.event.id,
    String(l.attempts),
    errorOf(l).code ?? "?",
    l.failedAt,
  ]);
  console.log(table(["ID", "GROUP", "EVENT TYPE", "EVENT ID", "ATTEMPTS", "ERROR", "FAILED AT"], rows));
  console.log(`${letters.length} dead letter${letters.length === 1 ? "" : "s"}`);
}

async function show(events: AppEvents, id: string, json: boolean): Promise<void> {
  const letter = await letterOrThrow(events, id);
  if (json) {
    console.log(JSON.stringify(letter, null, 2));
    return;
  }
  const error = errorOf(letter);
  const lines = [
    `dead letter ${letter.id}`,
    `  group:      ${letter.group}`,
    `  attempts:   ${letter.attempts}`,
    `  failed at:  ${letter.failedAt}`,
    "error",
    `  code:       ${error.code ?? "?"}`,
    `  message:    ${error.message ?? "?"}`,
  ];
  if (error.details !== undefined) lines.push(`  details:    ${indent(JSON.stringify(error.details, null, 2))}`);
  lines.push(
    "event",
    `  type:       ${letter.event.type}`,
    `  id:         ${letter.event.id}`,
    `  source:     ${letter.event.source}`,
    `  time:       ${letter.event.time}`,
    `  data:       ${indent(JSON.stringify(letter.event.data, null, 2) ?? "undefined")}`,
  );
  if ((letter as { truncated?: boolean }).truncated) lines.push("  (its data did not fit the dead-letter store)");
  console.log(lines.join("\n"));
}

async function retry(events: AppEvents, id: string): Promise<void> {
  const letter = await letterOrThrow(events, id);
  await events.deadLetters.retry(id);
  console.log(`retried dead letter ${id}: ${describe(letter)} delivered again to ${letter.group}`);
}

async function drop(events: AppEvents, id: string): Promise<void> {
  const letter = await letterOrThrow(events, id);
  await events.deadLetters.drop(id);
  console.log(`dropped dead letter ${id}: ${describe(letter)} of ${letter.group}`);
}

async function letterOrThrow(events: AppEvents, id: string): Promise<StoredDeadLetter> {
  const letter = await events.deadLetters.get(id);
  if (letter === undefined) throw new FlotillaError("NOT_FOUND", `no dead letter ${id} at ${events.where}`);
  return letter;
}

/** Loads the app to check `group` is one of its durable consumer groups (a typo lists nothing otherwise). */
async function checkGroup(appPath: string, group: string): Promise<void> {
  const app = await loadApp(appPath);
  const groups = app.services.flatMap((s) =>
    s.subscriptions.filter((sub) => !sub.broadcast).map((sub) => `${s.name}.${sub.name}`),
  );
  if (!groups.includes(group)) {
    throw new FlotillaError(
      "NOT_FOUND",
      `${app.name} has no consumer group "${group}" (it has: ${groups.join(", ") || "none"})`,
    );
  }
}

function describe(letter: StoredDeadLetter): string {
  return `event ${letter.event.type} ${letter.event.id}`;
}

function errorOf(letter: StoredDeadLetter): { code?: string; message?: string; details?: unknown } {
  const error = letter.error as { code?: unknown; message?: unknown; details?: unknown } | null;
  if (typeof error !== "object" || error === null) return { message: String(error) };
  return {
    ...(typeof error.code === "string" ? { code: error.code } : {}),
    ...(typeof error.message === "string" ? { message: error.message } : {}),
    ...(error.details === undefined ? {} : { details: error.details }),
  };
}

/** Continuation lines of a multi-line value, aligned under its first line. */
function indent(text: string): string {
  return text.replaceAll("\n", `\n${" ".repeat(14)}`);
}
