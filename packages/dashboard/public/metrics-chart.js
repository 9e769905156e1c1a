// A time-series chart of the Metrics view, drawn by uPlot on a canvas: a figure with its heading and a
// text summary, the canvas hidden from screen readers (the summary and the view's tables say the same).
import { html, useEffect, useRef } from "./preact-htm.js";
import uPlot from "./uplot.js";

/** Line colours readable on the light and the dark background; each series also has its name in the summary. */
export const COLORS = ["#2f6fdf", "#c2410c", "#15803d", "#a21caf", "#b45309", "#0e7490"];

const HEIGHT = 180;
/** The narrowest time window drawn (seconds): a few points sit at the right of five minutes rather than alone on a day. */
const MIN_WINDOW_S = 300;

function widthOf(el) {
  return Math.max(280, Math.min(720, el.clientWidth || 560));
}

/**
 * `lines`: [{ label }], `data`: [times in epoch ms, values of each line…] (null where unknown), `unit`
 * formats the y axis (e.g. `(v) => `${v} ms``).
 */
export function Chart({ id, title, lines, data, summary, unit = (v) => String(v) }) {
  const box = useRef(null);
  const plot = useRef(null);
  // uPlot's time scale counts seconds.
  const series = [data[0].map((t) => t / 1000), ...data.slice(1)];
  const shape = lines.map((l) => l.label).join("\u0000");
  useEffect(() => {
    const options = {
      width: widthOf(box.current),
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#7a7f8f", grid: { stroke: "rgba(127,127,127,0.2)" } },
        {
          stroke: "#7a7f8f",
          grid: { stroke: "rgba(127,127,127,0.2)" },
          values: (_u, ticks) => ticks.map(unit),
          size: 64,
        },
      ],
      series: [
        {},
        ...lines.map((l, i) => ({ label: l.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false })),
      ],
    };
    plot.current = new uPlot(options, series, box.current);
    frame(plot.current, series[0]);
    return () => {
      plot.current.destroy();
      plot.current = null;
    };
  }, [shape]);
  useEffect(() => {
    if (plot.current === null) return;
    plot.current.setData(series);
    frame(plot.current, series[0]);
  });
  return html`
    <figure class="chart" aria-labelledby=${`${id}-title`} aria-describedby=${`${id}-summary`}>
      <h3 id=${`${id}-title`}>${title}</h3>
      <div class="chart-canvas" ref=${box} aria-hidden="true"></div>
      <ul class="chart-key" aria-hidden="true">
        ${lines.map((l, i) => html`<li key=${l.label}><span class=${`swatch swatch-${i % COLORS.length}`}></span>${l.label}</li>`)}
      </ul>
      <figcaption id=${`${id}-summary`}>${summary}</figcaption>
    </figure>
  `;
}

/** Sets the time window: from the first point (or five minutes before the last, if that is earlier) to the last. */
function frame(plot, times) {
  const end = times.at(-1) ?? Date.now() / 1000;
  plot.setScale("x", { min: Math.min(times[0] ?? end, end - MIN_WINDOW_S), max: end });
}

/** Column `index` of points as an array (uPlot's data layout). */
export function column(points, index) {
  return points.map((p) => p[index]);
}

export function formatRate(v) {
  if (v === null || v === undefined) return "—";
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2);
}

export function formatRatio(v) {
  if (v === null || v === undefined) return "—";
  return `${(v * 100).toFixed(v === 0 || v === 1 ? 0 : 1)} %`;
}

export function formatSeconds(v) {
  if (v === null || v === undefined) return "—";
  return v < 1 ? `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms` : `${v.toFixed(2)} s`;
}

/** Axis labels of a count: whole numbers only (a tick at 1.5 instances says nothing). */
export function wholeTicks(v) {
  return Number.isInteger(v) ? String(v) : "";
}
