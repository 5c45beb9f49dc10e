/** The speckle image as a compact grayscale SVG: block-reduced cells, one path per gray level, and a colour bar. */
import { ArgumentError } from 'opu-core';
import { escapeXml, niceTicks } from './plot.js';

export interface SpeckleImageOptions {
  /** Cells along the longer side at most; the image is reduced by square blocks of pixels to fit. Default 128. */
  maxCells?: number;
  /** How a block of pixels becomes one cell: its mean (shows the envelope) or its max (shows hot spots). */
  reduce?: 'mean' | 'max';
  /** Gray levels; each is one SVG path, so fewer levels make a smaller file. Default 32. */
  levels?: number;
  /** Figure width in px. Default 640. */
  width?: number;
  title?: string;
}

interface Cells {
  cols: number;
  rows: number;
  /** Pixels per cell side. */
  block: number;
  values: Float64Array;
}

/** Pixels per cell side that `speckleImageSvg` reduces a `widthPx` × `heightPx` image by. */
export function speckleBlockPx(widthPx: number, heightPx: number, maxCells = 128): number {
  return Math.ceil(Math.max(widthPx, heightPx) / maxCells);
}

function reduceToCells(image: Float32Array, widthPx: number, heightPx: number, maxCells: number, max: boolean): Cells {
  const block = speckleBlockPx(widthPx, heightPx, maxCells);
  const cols = Math.ceil(widthPx / block);
  const rows = Math.ceil(heightPx / block);
  const values = new Float64Array(cols * rows).fill(max ? Number.NEGATIVE_INFINITY : 0);
  const counts = new Float64Array(cols * rows);
  for (let y = 0; y < heightPx; y++) {
    const rowCell = Math.floor(y / block) * cols;
    for (let x = 0; x < widthPx; x++) {
      const c = rowCell + Math.floor(x / block);
      const v = image[y * widthPx + x]!;
      values[c] = max ? Math.max(values[c]!, v) : values[c]! + v;
      counts[c]!++;
    }
  }
  // Edge blocks may hold fewer pixels, so the mean divides by each block's own count.
  if (!max) for (let c = 0; c < values.length; c++) values[c]! /= counts[c]!;
  return { cols, rows, block, values };
}

function valueRange(values: Float64Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi > lo ? [lo, hi] : [lo - 1, lo + 1];
}

const grayHex = (level: number, levels: number) => {
  const g = Math.round((255 * level) / (levels - 1)).toString(16);
  return `#${g.padStart(2, '0').repeat(3)}`;
};

/**
 * One path per non-black gray level, each cell row's runs of equal level as 1-unit-wide horizontal strokes: the
 * most compact exact encoding that needs no per-cell element. The viewBox is shifted by half a cell so that the
 * stroke of row r, centred on y = r, covers exactly that row.
 */
function levelPaths(cells: Cells, levelOf: (v: number) => number, levels: number): string[] {
  const runs: string[][] = Array.from({ length: levels }, () => []);
  for (let r = 0; r < cells.rows; r++) {
    let start = 0;
    for (let c = 1; c <= cells.cols; c++) {
      const level = levelOf(cells.values[r * cells.cols + start]!);
      if (c < cells.cols && levelOf(cells.values[r * cells.cols + c]!) === level) continue;
      runs[level]!.push(`M${start} ${r}h${c - start}`);
      start = c;
    }
  }
  const paths: string[] = [];
  for (let level = 1; level < levels; level++) {
    if (runs[level]!.length) paths.push(`<path stroke="${grayHex(level, levels)}" d="${runs[level]!.join('')}"/>`);
  }
  return paths;
}

function colourBar(x: number, y: number, height: number, lo: number, hi: number, levels: number): string[] {
  const parts: string[] = [];
  const step = height / levels;
  for (let level = 0; level < levels; level++) {
    const top = y + height - (level + 1) * step;
    parts.push(
      `<rect x="${x}" y="${top.toFixed(2)}" width="14" height="${(step + 0.05).toFixed(2)}" fill="${grayHex(level, levels)}"/>`,
    );
  }
  parts.push(`<rect x="${x}" y="${y}" width="14" height="${height}" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(lo, hi, 6)) {
    const ty = (y + height - ((t - lo) / (hi - lo)) * height).toFixed(1);
    parts.push(
      `<line x1="${x + 14}" x2="${x + 18}" y1="${ty}" y2="${ty}" stroke="#333"/>`,
      `<text x="${x + 21}" y="${ty}" dy="4">${t}</text>`,
    );
  }
  parts.push(`<text x="${x}" y="${y - 8}">ADU</text>`);
  return parts;
}

/** A grayscale image (row-major, `widthPx` × `heightPx`) as SVG, reduced to at most `maxCells` cells a side. */
export function speckleImageSvg(
  image: Float32Array,
  widthPx: number,
  heightPx: number,
  options: SpeckleImageOptions = {},
): string {
  if (image.length !== widthPx * heightPx || image.length === 0) {
    throw new ArgumentError(`image holds ${image.length} values, not ${widthPx} × ${heightPx} > 0`, {
      field: 'image',
      fix: 'pass a non-empty row-major image of widthPx × heightPx values',
    });
  }
  const levels = Math.max(2, Math.round(options.levels ?? 32));
  const width = options.width ?? 640;
  const cells = reduceToCells(image, widthPx, heightPx, options.maxCells ?? 128, options.reduce === 'max');
  const [lo, hi] = valueRange(cells.values);
  const levelOf = (v: number) => Math.min(levels - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * levels)));
  const top = options.title ? 44 : 24;
  // Room on the right for the colour bar and its labels. Cells are square unless the ROI is a few rows high (a
  // compact layout of few outputs is a single row): such an image is stretched to stay visible.
  const cellPx = Math.min((width - 20 - 100) / cells.cols, 400 / cells.rows);
  const imageWidth = Number((cells.cols * cellPx).toFixed(1));
  const imageHeight = Math.max(48, Number((cells.rows * cellPx).toFixed(1)));
  const barHeight = Math.max(160, imageHeight);
  const height = Math.ceil(top + barHeight + 16);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title) {
    parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  }
  parts.push(
    `<svg x="20" y="${top}" width="${imageWidth}" height="${imageHeight}" viewBox="0 -0.5 ${cells.cols} ${cells.rows}" ` +
      'preserveAspectRatio="none" shape-rendering="crispEdges">',
    `<rect x="0" y="-0.5" width="${cells.cols}" height="${cells.rows}" fill="${grayHex(0, levels)}"/>`,
    '<g stroke-width="1" fill="none">',
    ...levelPaths(cells, levelOf, levels),
    '</g>',
    '</svg>',
    ...colourBar(20 + imageWidth + 16, top, barHeight, lo, hi, levels),
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
