/**
 * Dependency-free SVG line plots for reports: axes with round-number ticks,
 * grid, legend, several series, gaps at NaN, and long series reduced to what
 * the plot's width can show.
 */
import { finiteRuns } from "./downsample.js";
import { escapeXml } from "./escape.js";
import { niceTicks } from "./ticks.js";

export interface PlotSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** CSS colour; default from a colour-blind-friendly palette. */
  color?: string;
}

export interface LinePlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: PlotSeries[];
  /** Pixels; default 720 x 360. */
  width?: number;
  height?: number;
  /** Fixed axis ranges (data outside is clipped); default: fit the data. */
  xRange?: [number, number];
  yRange?: [number, number];
}

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#555555"];
const FONT = 12;
/** Rough advance width of a character at FONT px in a sans-serif face, for layout without measuring text. */
const CHAR_W = FONT * 0.6;

let plotCounter = 0;

export function linePlot(opts: LinePlotOptions): string {
  validate(opts);
  const width = opts.width ?? 720;
  const height = opts.height ?? 360;

  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const s of opts.series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < xmin) xmin = x;
      if (x > xmax) xmax = x;
      if (y < ymin) ymin = y;
      if (y > ymax) ymax = y;
    }
  }
  const hasData = Number.isFinite(xmin);
  const xt = niceTicks(opts.xRange?.[0] ?? xmin, opts.xRange?.[1] ?? xmax, Math.max(2, Math.round(width / 110)));
  const yt = niceTicks(opts.yRange?.[0] ?? ymin, opts.yRange?.[1] ?? ymax, Math.max(2, Math.round(height / 60)));
  // A fixed range is used as given. Fitted: x spans the data exactly (time
  // axes should not run past the recording); y widens to whole ticks so the
  // extremes sit on labelled lines.
  const [x0, x1] = opts.xRange ?? (hasData && xmin < xmax ? [xmin, xmax] : [xt.lo, xt.hi]);
  const [y0, y1] = opts.yRange ?? [yt.lo, yt.hi];
  const xTicks = xt.values.map((v, i) => [v, xt.labels[i]!] as const).filter(([v]) => v >= Math.min(x0, x1) - 1e-12 && v <= Math.max(x0, x1) + 1e-12);
  const yTicks = yt.values.map((v, i) => [v, yt.labels[i]!] as const).filter(([v]) => v >= Math.min(y0, y1) - 1e-12 && v <= Math.max(y0, y1) + 1e-12);

  // Legend entries flow left to right and wrap under the title.
  const legendItems = opts.series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length]!, w: 28 + s.name.length * CHAR_W + 16 }));
  const legendRows: Array<typeof legendItems> = [];
  const maxRowW = width - 80;
  for (const item of legendItems) {
    const row = legendRows[legendRows.length - 1];
    if (row && row.reduce((a, b) => a + b.w, 0) + item.w <= maxRowW) row.push(item);
    else legendRows.push([item]);
  }
  const titleH = opts.title ? 28 : 8;
  const legendH = opts.series.length > 1 ? legendRows.length * 18 + 4 : 0;
  const yLabelW = Math.max(...yTicks.map(([, l]) => l.length), 1) * CHAR_W;
  const left = Math.round(8 + (opts.yLabel ? 20 : 0) + yLabelW + 8);
  const right = width - 16;
  const top = titleH + legendH + 8;
  const bottom = height - (opts.xLabel ? 44 : 26);
  const pw = right - left;
  const ph = bottom - top;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => bottom - ((y - y0) / (y1 - y0)) * ph;
  const clipId = `s2r-plot-${++plotCounter}`;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="${FONT}">`,
  );
  if (opts.title) out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (opts.title) out.push(`<text x="${width / 2}" y="19" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${escapeXml(opts.title)}</text>`);
  if (legendH) {
    legendRows.forEach((row, r) => {
      const rowW = row.reduce((a, b) => a + b.w, 0);
      let x = (width - rowW) / 2;
      const y = titleH + 10 + r * 18;
      for (const item of row) {
        out.push(
          `<g class="legend-item"><line x1="${f(x)}" y1="${y}" x2="${f(x + 20)}" y2="${y}" stroke="${escapeXml(item.color)}" stroke-width="2.5"/><text x="${f(x + 26)}" y="${y + 4}" fill="#333">${escapeXml(item.name)}</text></g>`,
        );
        x += item.w;
      }
    });
  }
  out.push(`<defs><clipPath id="${clipId}"><rect x="${left}" y="${top}" width="${pw}" height="${ph}"/></clipPath></defs>`);
  out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1">`);
  for (const [v] of xTicks) out.push(`<line x1="${f(sx(v))}" y1="${top}" x2="${f(sx(v))}" y2="${bottom}"/>`);
  for (const [v] of yTicks) out.push(`<line x1="${left}" y1="${f(sy(v))}" x2="${right}" y2="${f(sy(v))}"/>`);
  out.push(`</g>`);
  out.push(`<g class="x-ticks" fill="#444" text-anchor="middle">`);
  for (const [v, l] of xTicks) out.push(`<text x="${f(sx(v))}" y="${bottom + 16}">${escapeXml(l)}</text>`);
  out.push(`</g>`);
  out.push(`<g class="y-ticks" fill="#444" text-anchor="end">`);
  for (const [v, l] of yTicks) out.push(`<text x="${left - 6}" y="${f(sy(v) + 4)}">${escapeXml(l)}</text>`);
  out.push(`</g>`);
  if (opts.xLabel) out.push(`<text x="${f(left + pw / 2)}" y="${height - 10}" text-anchor="middle" fill="#222">${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel) out.push(`<text transform="translate(16 ${f(top + ph / 2)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(opts.yLabel)}</text>`);

  opts.series.forEach((s, i) => {
    const color = escapeXml(legendItems[i]!.color);
    const d: string[] = [];
    const dots: string[] = [];
    for (const run of finiteRuns(s.x, s.y, pw * 2)) {
      if (run.x.length === 1) {
        dots.push(`<circle cx="${f(sx(run.x[0]!))}" cy="${f(sy(run.y[0]!))}" r="3"/>`);
        continue;
      }
      d.push(`M${f(sx(run.x[0]!))} ${f(sy(run.y[0]!))}`);
      for (let k = 1; k < run.x.length; k++) d.push(`L${f(sx(run.x[k]!))} ${f(sy(run.y[k]!))}`);
    }
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#${clipId})">`);
    out.push(`<title>${escapeXml(s.name)}</title>`);
    if (d.length) out.push(`<path d="${d.join("")}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>`);
    if (dots.length) out.push(`<g fill="${color}">${dots.join("")}</g>`);
    out.push(`</g>`);
  });
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888" stroke-width="1"/>`);
  if (!hasData) out.push(`<text x="${f(left + pw / 2)}" y="${f(top + ph / 2)}" text-anchor="middle" fill="#999">no data</text>`);
  out.push(`</svg>`);
  return out.join("\n");
}

function f(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

function validate(opts: LinePlotOptions): void {
  const where = `linePlot ${JSON.stringify(opts?.title ?? "")}`;
  if (!Array.isArray(opts?.series)) throw new Error(`${where}: series must be an array`);
  for (const [i, s] of opts.series.entries()) {
    const name = `${where}: series ${i} (${JSON.stringify(s?.name)})`;
    if (typeof s?.name !== "string") throw new Error(`${where}: series ${i} needs a name`);
    if (!s.x || !s.y || typeof s.x.length !== "number" || typeof s.y.length !== "number") throw new Error(`${name}: x and y must be arrays`);
    if (s.x.length !== s.y.length) throw new Error(`${name}: x has ${s.x.length} values but y has ${s.y.length}`);
  }
  for (const [k, r] of [["xRange", opts.xRange], ["yRange", opts.yRange]] as const) {
    if (r !== undefined && !(Array.isArray(r) && r.length === 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] !== r[1])) {
      throw new Error(`${where}: ${k} must be two different finite numbers`);
    }
  }
  for (const k of ["width", "height"] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 100)) throw new Error(`${where}: ${k} must be at least 100 pixels, got ${v}`);
  }
}
