/**
 * Inline SVG bar charts, no library: messages per hour (done vs failed stacked) and failures
 * per flow. Each chart has a title and a text summary for screen readers; numbers in the page's
 * format (7.275 in pt-BR).
 */
import { fmtNumber } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * Vertical stacked bars. `bars`: [{label, total, failed}]; `title` for assistive technology.
 */
export function hourChart(bars, title, tickLabel) {
  const width = 520, height = 160, pad = 24;
  const max = Math.max(1, ...bars.map((b) => b.total));
  const step = (width - pad * 2) / Math.max(1, bars.length);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  root.appendChild(svg("title", {}, title));
  root.appendChild(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  root.appendChild(svg("text", { x: 2, y: pad - 8 }, fmtNumber(max)));
  bars.forEach((b, i) => {
    const x = pad + i * step + 1;
    const w = Math.max(1, step - 2);
    const totalH = ((height - pad * 2) * b.total) / max;
    const failedH = ((height - pad * 2) * b.failed) / max;
    const done = svg("rect", { x, y: height - pad - totalH, width: w, height: totalH - failedH, class: "bar-done" });
    done.appendChild(svg("title", {}, `${b.label}: ${fmtNumber(b.total)}`));
    root.appendChild(done);
    if (b.failed) {
      const failed = svg("rect", { x, y: height - pad - failedH, width: w, height: failedH, class: "bar-failed" });
      failed.appendChild(svg("title", {}, `${b.label}: ${fmtNumber(b.failed)}`));
      root.appendChild(failed);
    }
    if (i % 6 === 0) root.appendChild(svg("text", { x, y: height - 8 }, tickLabel(b)));
  });
  return root;
}

/** Horizontal bars: [{label, value}] (failures per flow). */
export function barList(rows, title) {
  const width = 520, rowH = 18, labelW = 150;
  const height = Math.max(rowH, rows.length * rowH) + 4;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  root.appendChild(svg("title", {}, title));
  rows.forEach((r, i) => {
    const y = i * rowH + 2;
    root.appendChild(svg("text", { x: 0, y: y + 12 }, r.label));
    const w = ((width - labelW - 40) * r.value) / max;
    root.appendChild(svg("rect", { x: labelW, y, width: Math.max(r.value ? 2 : 0, w), height: rowH - 5, class: "bar-failed" }));
    root.appendChild(svg("text", { x: labelW + w + 4, y: y + 12 }, fmtNumber(r.value)));
  });
  return root;
}
