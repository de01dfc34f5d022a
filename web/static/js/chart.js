// Small SVG bar charts drawn at the size of their container and drawn again when it
// changes: one bar per point, each the stack of its series' values.

import { h, s } from "./dom.js";

const PAD = { top: 10, right: 8, bottom: 22, left: 52 };
const HEIGHT = 200;

// barChart shows points [{label, [key]: value}] as stacked bars: series [{key, cls}]
// name the values, bottom first, and the class each segment is drawn with. A point
// whose values are all null is a gap (a day without figures). format labels the axis,
// tip(point) is a bar's tooltip; integer keeps the axis on whole numbers (counts), and
// title names the chart for screen readers.
export function barChart(points, { series, format = String, tip = (p) => p.label, title = "",
  integer = false }) {
  const total = (p) => series.reduce((n, sr) => n + (Number(p[sr.key]) || 0), 0);
  return responsive(title, (w) => {
    const axis = ticks(Math.max(0, ...points.map(total)), integer);
    const { svg, y, plotW } = frame(w, axis, format);
    const slot = plotW / Math.max(points.length, 1);
    const bw = Math.max(2, Math.min(28, slot * .68));
    points.forEach((p, i) => {
      if (series.every((sr) => p[sr.key] === null || p[sr.key] === undefined)) return;
      const x = PAD.left + i * slot + (slot - bw) / 2;
      let base = 0;
      for (const sr of series) {
        const v = Number(p[sr.key]) || 0;
        if (v <= 0) continue;
        const top = y(base + v);
        svg.append(s("rect", { class: "bar " + sr.cls, x, y: top, width: bw,
          height: Math.max(1, y(base) - top), rx: 1 }, s("title", tip(p))));
        base += v;
      }
    });
    xLabels(svg, points, (i) => PAD.left + i * slot + slot / 2, plotW);
    return svg;
  });
}

// responsive draws with draw(width) now and whenever the container's width changes.
function responsive(title, draw) {
  const box = h("div.chart-box", { role: "img", "aria-label": title });
  let width = 0;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(box.clientWidth);
    if (w > 0 && w !== width) {
      width = w;
      box.replaceChildren(draw(w));
    }
  });
  ro.observe(box);
  return box;
}

function frame(w, axis, format) {
  const plotW = Math.max(10, w - PAD.left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (v / axis.max) * plotH;
  const svg = s("svg.chart", { viewBox: `0 0 ${w} ${HEIGHT}`, width: w, height: HEIGHT,
    "aria-hidden": "true" });
  for (let v = 0; v <= axis.max + axis.step / 2; v += axis.step) {
    svg.append(s("line.grid-line", { x1: PAD.left, x2: w - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(s("text", { x: PAD.left - 6, y: y(v) + 3, "text-anchor": "end" }, format(v)));
  }
  return { svg, y, plotW };
}

// xLabels writes as many labels under the axis as fit, the last one always.
function xLabels(svg, points, xOf, plotW) {
  const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotW / 64))));
  const last = points.length - 1;
  const right = PAD.left + plotW;
  points.forEach((p, i) => {
    if ((last - i) % every) return;
    // A label that would run past the plot's right edge ends at it instead.
    const x = xOf(i);
    const end = x + 16 > right + PAD.right;
    svg.append(s("text", { x: end ? right + PAD.right - 1 : x, y: HEIGHT - 6,
      "text-anchor": end ? "end" : "middle" }, p.label));
  });
}

// ticks picks the axis for values up to max: a step of 1, 2, 2.5 or 5 times a power of
// ten giving about four intervals, and the top as a whole number of steps. An integer
// axis (at least 0 to 4) steps by 1, 2 or 5 times a power of ten.
export function ticks(max, integer = false) {
  if (integer) max = Math.max(max, 4);
  if (!(max > 0)) return { max: 1, step: .25 };
  const rough = max / 4;
  const p = 10 ** Math.floor(Math.log10(rough));
  const step = (integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]).map((m) => m * p)
    .find((v) => v >= rough);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}
