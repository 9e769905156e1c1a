/** @module Plain-text tables for the commands that list things. */

/** Left-aligned columns, two spaces apart; `right` names the columns aligned right (numbers). */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        if (right.has(i)) return c.padStart(w);
        return i === cells.length - 1 ? c : c.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
