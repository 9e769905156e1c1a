#!/usr/bin/env node
// Registers tsx so the CLI and the app modules it loads can be TypeScript, then runs the CLI.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
