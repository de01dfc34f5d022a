// Small SVG charts drawn at the size of their container and drawn again when it
// changes: stacked bars for counts per day, an area for a growing total.

import { h, s } from "./dom.js";

const PAD = { top: 10, right: 8, bottom: 22, left: 48 };
const HEIGHT = 200;

// barChart shows points [{label, ok, bad}] as stacked bars; format labels the axis.
export function barChart(points, { format = String, title = "" } = {}) {
  return responsive(title, (w) => {
    const max = niceMax(Math.max(1, ...points.map((p) => (p.ok || 0) + (p.bad || 0))));
    const { svg, y, plotW } = frame(w, max, format, title);
    const slot = plotW / Math.max(points.length, 1);
    const bw = Math.max(2, Math.min(28, slot * .68));
    points.forEach((p, i) => {
      const x = PAD.left + i * slot + (slot - bw) / 2;
      const okH = y(0) - y(p.ok || 0);
      const badH = y(0) - y(p.bad || 0);
      const tip = `${p.label}: ${p.ok || 0} completed, ${p.bad || 0} failed`;
      svg.append(s("rect.bar-ok", { x, y: y(0) - okH, width: bw, height: okH, rx: 1 },
        s("title", tip)));
      if (badH > 0) {
        svg.append(s("rect.bar-bad", { x, y: y(0) - okH - badH, width: bw, height: badH, rx: 1 },
          s("title", tip)));
      }
    });
    xLabels(svg, points, (i) => PAD.left + i * slot + slot / 2, plotW);
    return svg;
  });
}

// areaChart shows points [{label, value}] as a line over a filled area.
export function areaChart(points, { format = String, title = "" } = {}) {
  return responsive(title, (w) => {
    const max = niceMax(Math.max(1, ...points.map((p) => p.value || 0)));
    const { svg, y, plotW } = frame(w, max, format, title);
    const step = plotW / Math.max(points.length - 1, 1);
    const xy = points.map((p, i) => [PAD.left + i * step, y(p.value || 0)]);
    if (xy.length) {
      const line = xy.map(([x, yy], i) => `${i ? "L" : "M"}${x.toFixed(1)},${yy.toFixed(1)}`)
        .join("");
      const last = xy[xy.length - 1][0];
      svg.append(s("path.area", { d: `${line}L${last},${y(0)}L${PAD.left},${y(0)}Z` }));
      svg.append(s("path.line", { d: line }));
      xy.forEach(([x, yy], i) => svg.append(s("circle.dot", { cx: x, cy: yy, r: 2.5 },
        s("title", `${points[i].label}: ${format(points[i].value)}`))));
    }
    xLabels(svg, points, (i) => PAD.left + i * step, plotW);
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

function frame(w, max, format) {
  const plotW = Math.max(10, w - PAD.left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const svg = s("svg.chart", { viewBox: `0 0 ${w} ${HEIGHT}`, width: w, height: HEIGHT,
    "aria-hidden": "true" });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(s("line.grid-line", { x1: PAD.left, x2: w - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(s("text", { x: PAD.left - 6, y: y(v) + 3, "text-anchor": "end" }, format(v)));
  }
  return { svg, y, plotW };
}

// xLabels writes as many labels under the axis as fit.
function xLabels(svg, points, xOf, plotW) {
  const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotW / 64))));
  points.forEach((p, i) => {
    if (i % every) return;
    svg.append(s("text", { x: xOf(i), y: HEIGHT - 6, "text-anchor": "middle" }, p.label));
  });
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
