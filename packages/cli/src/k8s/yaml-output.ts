/** @module Manifests as YAML: one document stream, or a directory with a file per unit. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ManifestFile } from "./manifests.js";
import type { K8sObject } from "./objects.js";

const HEADER = "# Written by `flotilla deploy k8s` (docs/kubernetes.md). Holds Secrets: keep it private.\n";

/** One object as a YAML document, with nothing YAML would turn into a reference or a folded line. */
export function objectYaml(object: K8sObject): string {
  return stringify(object, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Objects as one YAML stream, documents separated by `---`. */
export function yamlStream(objects: readonly K8sObject[]): string {
  return HEADER + objects.map((o) => `---\n${objectYaml(o)}`).join("");
}

/** Writes each file's stream into `dir` (created if missing), readable by its owner only: Secrets are in them. */
export function writeManifestDir(dir: string, files: readonly ManifestFile[]): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return files.map(({ file, objects }) => {
    const path = join(dir, file);
    writeFileSync(path, yamlStream(objects), { mode: 0o600 });
    chmodSync(path, 0o600); // a file written before keeps its mode otherwise
    return path;
  });
}
