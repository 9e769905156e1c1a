import { MemoryTransport } from "@flotilla/core";
import { transportConformance } from "@flotilla/testing";
import { eventJournalFile, sqliteEventJournal } from "../src/index.js";
import { tempDir } from "./fixtures/files.js";

// The in-process transport keeps its semantics when every event also goes through the journal.
for (const faithful of [false, true]) {
  transportConformance({
    name: faithful ? "memory with an event journal (wire-faithful)" : "memory with an event journal",
    ...(faithful ? { maxPayloadBytes: 64 * 1024 } : {}),
    async setup() {
      const dir = tempDir();
      const journal = sqliteEventJournal(eventJournalFile(dir.path));
      const transport = new MemoryTransport({ faithful, maxPayloadBytes: 64 * 1024, journal });
      await transport.connect();
      return {
        transport: async () => transport,
        deadLetters: (group) => transport.deadLetterStore.list(group),
        async teardown() {
          await transport.close();
          dir.remove();
        },
      };
    },
  });
}
