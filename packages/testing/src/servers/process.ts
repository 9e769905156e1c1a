/** @module Child-process plumbing the launchers share, from the supervisor (one implementation for both). */
export * from "@flotilla/supervisor/servers";
