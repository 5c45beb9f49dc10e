/** Minimal SVG plots for benchmark results and calibration reports: no dependency, deterministic output. */

export interface Series {
  label: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /**
   * 'dots' for a scatter, 'line' for a curve, 'steps' for a histogram (each y holds until the next x: pass the bin
   * edges and repeat the last level), 'bars' for vertical bars from the axis to each point.
   */
  style: 'dots' | 'line' | 'steps' | 'bars';
  /** Dashes a line, e.g. a model curve drawn against measurements. */
  dashed?: boolean;
}

/** A dashed marker line: a threshold, a chosen setting, a hardware limit. */
export interface ReferenceLine {
  /** 'x' marks an abscissa with a vertical line, 'y' an ordinate with a horizontal one. */
  axis: 'x' | 'y';
  value: number;
  label: string;
  color: string;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** The axes always include these, so a marker outside the data stays visible. */
  references?: ReferenceLine[];
  /** Fraction of each axis span left beyond the data and markers, so that they clear the frame. */
  padding?: number;
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
}

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round ticks (1, 2 or 5 × a power of ten apart) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const unit = [1, 2, 5, 10].map((k) => k * step).find((s) => (max - min) / s <= count) ?? 10 * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / unit) * unit; t <= max + 1e-12; t += unit) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

interface Tick {
  value: number;
  label: string;
}

/** Ticks of a log axis spanning [10^lo, 10^hi]: whole decades when they are round, else 1-2-5 or 1…9 mantissas. */
function logTicks(lo: number, hi: number): Tick[] {
  const decades = niceTicks(lo, hi);
  if (decades.length >= 2 && decades.every(Number.isInteger)) {
    return decades.map((k) => ({ value: 10 ** k, label: `1e${k}` }));
  }
  for (const mantissas of [
    [1, 2, 5],
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  ]) {
    const ticks: Tick[] = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      for (const m of mantissas) {
        const value = Number((m * 10 ** k).toPrecision(6));
        const l = Math.log10(value);
        if (l >= lo - 1e-9 && l <= hi + 1e-9) ticks.push({ value, label: `${value}` });
      }
    }
    if (ticks.length >= 3) return ticks;
  }
  return niceTicks(10 ** lo, 10 ** hi).map((value) => ({ value, label: `${value}` }));
}

interface Axis {
  log: boolean;
  /** Range in axis units: the value, or its log10 on a log axis. */
  min: number;
  max: number;
}

const axisValue = (log: boolean, v: number) => (log ? Math.log10(v) : v);
const plottable = (log: boolean, v: number) => Number.isFinite(v) && (!log || v > 0);

/** The range of `values` (axis units), widened when empty or degenerate so the scale stays finite. */
function makeAxis(log: boolean, values: number[], padding: number): Axis {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (min > max) {
    min = 0;
    max = 1;
  }
  if (!(max - min > 1e-9 * Math.max(Math.abs(min), Math.abs(max)))) {
    const half = log ? 0.5 : Math.abs(min) * 0.1 || 1;
    min -= half;
    max += half;
  }
  const pad = padding * (max - min);
  return { log, min: min - pad, max: max + pad };
}

const axisTicks = (a: Axis): Tick[] =>
  a.log ? logTicks(a.min, a.max) : niceTicks(a.min, a.max).map((t) => ({ value: t, label: `${t}` }));

const margin = { left: 70, right: 20, top: 40, bottom: 55 };

/** A plot's size, axes and the maps from data to pixels. */
interface Canvas {
  width: number;
  height: number;
  x: Axis;
  y: Axis;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

function makeCanvas(series: Series[], options: PlotOptions): Canvas {
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const { x, y } = makeAxes(series, options);
  const sx = (v: number) =>
    margin.left + ((axisValue(x.log, v) - x.min) / (x.max - x.min)) * (width - margin.left - margin.right);
  const sy = (v: number) =>
    height - margin.bottom - ((axisValue(y.log, v) - y.min) / (y.max - y.min)) * (height - margin.top - margin.bottom);
  return { width, height, x, y, sx, sy };
}

/** Axis ranges over every plottable point and every reference line. */
function makeAxes(series: Series[], options: PlotOptions): { x: Axis; y: Axis } {
  const logX = options.logX ?? false;
  const logY = options.logY ?? false;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      if (!plottable(logX, s.x[i]!) || !plottable(logY, s.y[i]!)) continue;
      xs.push(axisValue(logX, s.x[i]!));
      ys.push(axisValue(logY, s.y[i]!));
    }
  }
  for (const r of options.references ?? []) {
    const log = r.axis === 'x' ? logX : logY;
    if (plottable(log, r.value)) (r.axis === 'x' ? xs : ys).push(axisValue(log, r.value));
  }
  const padding = options.padding ?? 0;
  return { x: makeAxis(logX, xs, padding), y: makeAxis(logY, ys, padding) };
}

/** Series then reference lines, on a white box so that data under the legend does not garble it. */
function legend(series: Series[], options: PlotOptions, { width, height }: Canvas): string[] {
  const references = options.references ?? [];
  const entries = series.length + references.length;
  if (entries === 0) return [];
  const corner = options.legend ?? 'top-right';
  const x = corner.endsWith('right') ? width - margin.right - 190 : margin.left + 10;
  const firstY = corner.startsWith('top') ? margin.top + 16 : height - margin.bottom - 10 - 16 * (entries - 1);
  // About 7 px a character at 12 px sans-serif: an estimate, as there is no text measurement here.
  const longest = Math.max(...[...series, ...references].map((e) => e.label.length));
  const parts = [
    `<rect x="${x - 6}" y="${firstY - 13}" width="${Math.min(196, 27 + 7 * longest)}" height="${16 * entries + 2}" ` +
      'fill="white" fill-opacity="0.85"/>',
  ];
  series.forEach((s, k) => {
    const ly = firstY + 16 * k;
    parts.push(
      `<rect x="${x}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${x + 15}" y="${ly}">${escapeXml(s.label)}</text>`,
    );
  });
  references.forEach((r, k) => {
    const ly = firstY + 16 * (series.length + k);
    parts.push(
      `<line x1="${x}" x2="${x + 10}" y1="${ly - 4}" y2="${ly - 4}" stroke="${r.color}" ` +
        'stroke-width="1.5" stroke-dasharray="3 2"/>',
      `<text x="${x + 15}" y="${ly}">${escapeXml(r.label)}</text>`,
    );
  });
  return parts;
}

/** Labelled grid lines at the ticks of both axes, then the frame. */
function grid({ width, height, x, y, sx, sy }: Canvas): string[] {
  const parts: string[] = [];
  for (const t of axisTicks(x)) {
    parts.push(
      `<line x1="${sx(t.value)}" x2="${sx(t.value)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#eee"/>`,
      `<text x="${sx(t.value)}" y="${height - margin.bottom + 16}" text-anchor="middle">${t.label}</text>`,
    );
  }
  for (const t of axisTicks(y)) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(t.value)}" y2="${sy(t.value)}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${sy(t.value) + 4}" text-anchor="end">${t.label}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" ` +
      `height="${height - margin.top - margin.bottom}" fill="none" stroke="#333"/>`,
  );
  return parts;
}

/** A dashed line across the frame for each reference that the axes can show. */
function referenceLines(references: ReferenceLine[], { width, height, x, y, sx, sy }: Canvas): string[] {
  return references
    .filter((r) => plottable(r.axis === 'x' ? x.log : y.log, r.value))
    .map((r) => {
      const [x1, x2, y1, y2] =
        r.axis === 'x'
          ? [sx(r.value), sx(r.value), margin.top, height - margin.bottom]
          : [margin.left, width - margin.right, sy(r.value), sy(r.value)];
      return (
        `<line x1="${x1.toFixed(1)}" x2="${x2.toFixed(1)}" y1="${y1.toFixed(1)}" y2="${y2.toFixed(1)}" ` +
        `stroke="${r.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`
      );
    });
}

export function plot(series: Series[], options: PlotOptions): string {
  const canvas = makeCanvas(series, options);
  const { width, height } = canvas;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    ...grid(canvas),
    ...referenceLines(options.references ?? [], canvas),
    ...series.flatMap((s) => seriesMarks(s, pointRuns(s, canvas), barBaseline(canvas))),
    ...legend(series, options, canvas),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

/** Where bars start: y = 0 when the axis shows it, else the bottom of the frame. */
function barBaseline({ height, y, sy }: Canvas): number {
  return !y.log && y.min <= 0 && y.max >= 0 ? sy(0) : height - margin.bottom;
}

type Point = [string, string];

/**
 * The series' points in pixels, split where a point is off the axes (NaN, or ≤ 0 on a log axis) so that a curve
 * does not bridge the gap. A step curve still closes the level before the gap, which spans up to the gap's x.
 */
function pointRuns(s: Series, { x: xAxis, y: yAxis, sx, sy }: Canvas): Point[][] {
  const runs: Point[][] = [[]];
  for (let i = 0; i < s.x.length; i++) {
    const run = runs[runs.length - 1]!;
    const [x, y] = [s.x[i]!, s.y[i]!];
    if (plottable(xAxis.log, x) && plottable(yAxis.log, y)) {
      run.push([sx(x).toFixed(1), sy(y).toFixed(1)]);
      continue;
    }
    if (!run.length) continue;
    if (s.style === 'steps' && plottable(xAxis.log, x)) run.push([sx(x).toFixed(1), run[run.length - 1]![1]]);
    runs.push([]);
  }
  return runs.filter((run) => run.length);
}

function seriesMarks(s: Series, runs: Point[][], baseline: number): string[] {
  if (s.style === 'dots') {
    return runs.flat().map(([x, y]) => `<circle cx="${x}" cy="${y}" r="1.2" fill="${s.color}" fill-opacity="0.5"/>`);
  }
  if (s.style === 'bars') return bars(s.color, runs.flat(), baseline);
  const path = runs.flatMap((points) =>
    s.style === 'steps'
      ? points.map(([x, y], i) => (i ? `H${x} V${y}` : `M${x},${y}`))
      : points.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`),
  );
  if (!path.length) return [];
  const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
  return [`<path d="${path.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"${dash}/>`];
}

/** Bars as wide as 70% of the closest spacing of their abscissae (capped), so neighbours never overlap. */
function bars(color: string, points: Point[], baseline: number): string[] {
  const xs = points.map(([x]) => Number(x)).sort((a, b) => a - b);
  let gap = 40;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[i - 1]!) gap = Math.min(gap, xs[i]! - xs[i - 1]!);
  const w = Math.max(1, 0.7 * gap);
  return points.map(([x, y]) => {
    const top = Math.min(Number(y), baseline);
    const h = Math.abs(baseline - Number(y));
    return (
      `<rect x="${(Number(x) - w / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" ` +
      `height="${h.toFixed(1)}" fill="${color}" fill-opacity="0.7"/>`
    );
  });
}
