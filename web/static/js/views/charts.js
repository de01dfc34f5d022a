// The analytics charts and figures the overview and the Storage page share: the backup
// trend (GET /api/analytics/backups) and storage growth and savings
// (GET /api/analytics/storage).

import { barChart } from "../chart.js";
import { bytes, duration, h, number, percent, utcDay, utcDays } from "../dom.js";

const hourFmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });

// trendChart draws the backups of each bucket of a backup analytics reply (its
// `analytics` member) by how they ended, or returns null when the range had none.
export function trendChart(a) {
  if (!a.totals || !a.totals.total) return null;
  const label = a.interval === "1h" ? (t) => hourFmt.format(new Date(t)) : utcDay;
  const points = a.series.map((d) => ({ label: label(d.start), completed: d.completed,
    failed: d.failed, canceled: d.canceled }));
  const t = a.totals;
  return h("div.chart-wrap",
    h("p.chart-summary",
      h("b", number(t.total)), t.total === 1 ? " backup" : " backups",
      t.success_rate !== null ? [" · ", h("b", percent(t.success_rate)), " succeeded"] : null,
      t.avg_duration_seconds !== null
        ? [" · ", h("b", duration(t.avg_duration_seconds)), " on average"] : null,
      " · ", h("b", bytes(t.stored_bytes)), " of new data"),
    barChart(points, {
      series: [{ key: "completed", cls: "ok" }, { key: "failed", cls: "bad" },
        { key: "canceled", cls: "neutral" }],
      integer: true, format: number,
      tip: (p) => `${p.label}: ${p.completed} completed, ${p.failed} failed, ` +
        `${p.canceled} canceled`,
      title: `Backups per ${a.interval === "1h" ? "hour" : "day"}: ${t.completed} completed, ` +
        `${t.failed} failed, ${t.canceled} canceled`,
    }),
    legend([["ok", "completed"], ["bad", "failed"], ["neutral", "canceled"]]));
}

// growthChart draws the bytes in storage at the end of each of the last `days` UTC days
// from a storage analytics reply (its `storage` member): the daily samples, and for
// today the figures of the reply itself, which are current. Days without a sample (the
// controller was not running) are gaps. It returns null while nothing is stored.
export function growthChart(r, days = 30) {
  const byDay = new Map((r.growth || []).map((g) => [g.date, g]));
  const keys = utcDays(days);
  const today = keys[keys.length - 1];
  byDay.set(today, { ...byDay.get(today), stored_bytes: r.stored_bytes,
    logical_bytes: r.logical_bytes });
  const points = keys.map((d) => {
    const g = byDay.get(d);
    return { label: utcDay(d + "T00:00:00Z"), stored: g ? g.stored_bytes : null,
      logical: g ? g.logical_bytes : null, added: g ? g.added_bytes || 0 : 0 };
  });
  if (!points.some((p) => p.stored > 0)) return null;
  const added = points.reduce((n, p) => n + p.added, 0);
  return h("div.chart-wrap",
    h("p.chart-summary", h("b", bytes(r.stored_bytes)), " stored for ",
      h("b", bytes(r.logical_bytes)), " of backups",
      added ? [" · ", h("b", bytes(added)), ` added in ${days} days`] : null,
      fillText(r.projection)),
    barChart(points, {
      series: [{ key: "stored", cls: "accent" }], format: axisBytes,
      tip: (p) => `${p.label}: ${bytes(p.stored)} stored for ${bytes(p.logical)} of backups` +
        (p.added ? `, ${bytes(p.added)} added` : ""),
      title: `Bytes stored per day, last ${days} days; now ${bytes(r.stored_bytes)}`,
    }));
}

// fillText says when the storage volume fills at the recent pace, if it is filling.
function fillText(p) {
  if (!p || p.days_until_full === null || p.days_until_full === undefined) return null;
  const d = Math.round(p.days_until_full);
  return [" · the volume fills in ", h("b", d <= 1 ? "a day" : `about ${number(d)} days`),
    " at this pace"];
}

// savings are the saved-bytes figures of a storage analytics reply: what deduplication
// and compression keep out of storage, against the size of the kept backups.
export function savings(r) {
  const saved = Math.max(0, r.savings_bytes || 0);
  if (!r.logical_bytes) return { value: bytes(0), sub: "No completed backups yet" };
  return {
    value: bytes(saved),
    sub: `${percent(Math.max(0, r.savings_ratio || 0))} of ${bytes(r.logical_bytes)} backed ` +
      `up: ${bytes(Math.max(0, r.dedup_savings_bytes))} by deduplication, ` +
      `${bytes(Math.max(0, r.compression_savings_bytes))} by compression`,
  };
}

export function legend(items) {
  return h("div.legend", items.map(([cls, label]) => h("span", h("i", { class: cls }), label)));
}

// axisBytes is bytes without trailing zeros, for the axis: 2 MB, 2.5 MB.
function axisBytes(v) {
  return bytes(v).replace(/(\.\d*?)0+ /, "$1 ").replace(/\. /, " ");
}
