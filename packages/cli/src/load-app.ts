/** @module Finds and loads the app module: `--app PATH`, else package.json's `"flotilla": { "app": PATH }`. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FlotillaApp } from "@flotilla/app";
import { FlotillaCodes, FlotillaError } from "@flotilla/core";

export async function loadApp(appPath: string | undefined, cwd = process.cwd()): Promise<FlotillaApp> {
  const file = appModulePath(appPath, cwd);
  if (!existsSync(file)) throw configError(`app module ${file} does not exist`);
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown; app?: unknown };
  const app = module.default ?? module.app;
  if (!isApp(app)) throw configError(`${file} must export an app (defineApp) as default or as "app"`);
  return app;
}

/** The app module's absolute path: `appPath` resolved against cwd, else package.json's `flotilla.app`. */
export function appModulePath(appPath: string | undefined, cwd = process.cwd()): string {
  return appPath === undefined ? fromPackageJson(cwd) : resolve(cwd, appPath);
}

/** Walks up from cwd to the nearest package.json that names an app. */
function fromPackageJson(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      const app = (JSON.parse(readFileSync(pkg, "utf8")) as { flotilla?: { app?: unknown } }).flotilla?.app;
      if (typeof app === "string") return resolve(dir, app);
    }
    if (dirname(dir) === dir) break;
  }
  throw configError('no app: pass --app PATH or set "flotilla": { "app": "PATH" } in package.json');
}

function isApp(value: unknown): value is FlotillaApp {
  const v = value as FlotillaApp | undefined;
  return typeof v?.name === "string" && Array.isArray(v.services);
}

function configError(message: string): FlotillaError {
  return FlotillaError.of(FlotillaCodes.CONFIG, message);
}
