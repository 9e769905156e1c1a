/**
 * @module The benchmark's SSE client side: a minimal parser of `text/event-stream` blocks (`event:` and
 * `data:` lines; ids, `retry:` and comments skipped), one per connection, cheaper than an EventSource each.
 */

/** What a parsed block carries: its event type (`message` unless named) and its data lines, joined. */
export type SseHandler = (event: string, data: string) => void;

export class SseReader {
  private rest = "";

  constructor(private readonly onEvent: SseHandler) {}

  /** Feeds a decoded chunk; calls the handler for each block it completes. */
  push(chunk: string): void {
    let text = this.rest === "" ? chunk : this.rest + chunk;
    let end = text.indexOf("\n\n");
    while (end !== -1) {
      this.block(text.slice(0, end));
      text = text.slice(end + 2);
      end = text.indexOf("\n\n");
    }
    this.rest = text;
  }

  private block(block: string): void {
    let event = "message";
    let data: string | undefined;
    for (const line of block.split("\n")) {
      if (line.startsWith("data:")) {
        const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
        data = data === undefined ? value : `${data}\n${value}`;
      } else if (line.startsWith("event:")) {
        event = line.slice(line.charCodeAt(6) === 32 ? 7 : 6);
      }
    }
    if (data !== undefined) this.onEvent(event, data);
  }
}
