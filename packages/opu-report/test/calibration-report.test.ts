import {
  ArgumentError,
  CALIBRATION_STEPS,
  type CalibrationStepName,
  type CalibrationSteps,
  type DeviceCalibration,
  type StabilityResult,
  seededNormal,
  seededUniform,
} from 'opu-core';
import { describe, expect, it } from 'vitest';
import { histogramDensity, renderCalibrationReport, speckleImageSvg } from '../src/calibration-report.js';
import { plot } from '../src/plot.js';

// ---- hand-made calibrations -------------------------------------------------------------------------------------

function exponentialSample(n: number, seed: number): Float32Array {
  const uniform = seededUniform(seed);
  return Float32Array.from({ length: n }, () => -Math.log(uniform()));
}

function histogram(values: ArrayLike<number>, edges: ArrayLike<number>): Float32Array {
  const counts = new Float32Array(edges.length - 1);
  for (let i = 0; i < values.length; i++) {
    for (let b = 0; b < counts.length; b++) {
      if (values[i]! >= edges[b]! && values[i]! < edges[b + 1]!) {
        counts[b]!++;
        break;
      }
    }
  }
  return counts;
}

const uniformEdges = (bin: number, max: number) =>
  Float32Array.from({ length: Math.round(max / bin) + 1 }, (_, b) => b * bin);

const run = (k: number) => ({
  completedAt: `2025-03-0${1 + (k % 9)}T10:00:00.000Z`,
  durationMs: 1500 + 100 * k,
  frames: 1000 * (k + 1),
  deviceTimeUs: 2e5 * (k + 1),
});

/** A stability result: drifting decays as c(0)·e^(−t/τ) with the fit's own interval; stable stays at the floor. */
function stability(drifting: boolean): StabilityResult {
  const noise = seededNormal(7);
  const noiseFloor = 0.995;
  const threshold = 0.99;
  const timeConstantS = drifting ? 200 : Number.POSITIVE_INFINITY;
  const timesS = Float32Array.from({ length: 13 }, (_, i) => 5 * i);
  const correlation = timesS.map((t) => noiseFloor * Math.exp(-t / timeConstantS) + 2e-4 * noise());
  return {
    ...run(5),
    timesS,
    correlation,
    noiseFloor,
    timeConstantS,
    drifting,
    recalibrationIntervalS: drifting ? timeConstantS * Math.log(1 / threshold) : Number.POSITIVE_INFINITY,
    correlationThreshold: threshold,
  };
}

interface Shape {
  widthPx?: number;
  heightPx?: number;
  drifting?: boolean;
}

function allSteps({ widthPx = 64, heightPx = 48, drifting = false }: Shape): CalibrationSteps {
  const pixels = widthPx * heightPx;
  const normal = seededNormal(3);
  const edges = uniformEdges(0.25, 10);
  const samples = exponentialSample(20_000, 11);
  const rows = 32;
  const cols = 16;
  const layout = {
    inputs: cols,
    referenceCount: 2,
    referenceElements: 4,
    mirrorsPerElement: 1,
    region: { left: 0, top: 0, width: 24, height: 1 },
    roi: { left: 0, top: 0, width: widthPx, height: heightPx },
  };
  return {
    triggerLag: { ...run(0), lagFrames: 1 },
    dark: {
      ...run(1),
      offsetAdu: Float32Array.from({ length: pixels }, () => 12 + 0.5 * normal()),
      slopeAduPerUs: Float32Array.from({ length: pixels }, () => 0.001),
      offsetSpreadAdu: 0.5,
    },
    exposure: {
      ...run(2),
      litMirrors: 12,
      exposureUs: 400,
      margin: 0.8,
      responsivity: 0.02,
      sweepExposureUs: Float32Array.of(100, 200, 800, 400, 600, 500),
      sweepMaxAdu: Float32Array.of(900, 1800, 4095, 3600, 4095, 4095),
      sweepSaturatedPixels: Float32Array.of(0, 0, 40, 0, 3, 1),
      speckleImageAdu: exponentialSample(pixels, 5).map((v) => 600 * v),
      speckleWidthPx: widthPx,
      speckleHeightPx: heightPx,
      histogramEdges: edges,
      histogramCounts: histogram(samples, edges),
    },
    reference: {
      ...run(3),
      averagedFrames: 8,
      snr: 120,
      targetSnr: 100,
      referenceIntensity: new Float32Array(2 * pixels).fill(1),
      weights: new Float32Array(pixels * 2).fill(0.5),
      amplitude: new Float32Array(pixels).fill(1),
    },
    linearity: { ...run(4), superpositionError: 0.012, realSuperpositionError: 0.02, pairs: 16 },
    stability: stability(drifting),
    transmissionMatrix: {
      ...run(6),
      rows,
      cols,
      re: Float32Array.from({ length: rows * cols }, () => normal()),
      im: Float32Array.from({ length: rows * cols }, () => normal()),
      method: 'anchors',
      layout,
      quality: {
        intensityCorrelation: 0.987,
        intensityRelativeError: 0.04,
        testInputs: 32,
        anchorConditionMedian: 2.5,
        anchorConditionMax: 17,
        frames: 5000,
        deviceTimeUs: 1.2e6,
      },
    },
  };
}

function calibration(present: readonly CalibrationStepName[], shape: Shape = {}): DeviceCalibration {
  const steps = allSteps(shape);
  const { layout } = steps.transmissionMatrix;
  return {
    createdAt: '2025-03-01T09:59:00.000Z',
    device: {
      model: 'OPU-Sim',
      serialNumber: 'SIM-0001',
      firmwareVersion: '1.2.3',
      camera: { bitDepth: 8, maxAdu: 255, widthPx: 1920, heightPx: 1080 },
      dmd: { widthMirrors: 912, heightMirrors: 1140 },
    },
    settings: {
      exposureUs: 400,
      frameTimeUs: 1000,
      gainDb: 0,
      inputRegion: layout.region,
      outputRoi: layout.roi,
    },
    layout,
    outputs: steps.dark.offsetAdu.length,
    seed: 42,
    steps: Object.fromEntries(present.map((name) => [name, steps[name]])),
  };
}

// ---- reading the page back --------------------------------------------------------------------------------------

const count = (text: string, needle: string) => text.split(needle).length - 1;

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input']);

/** Every element is closed in order (void elements and `/>` aside); returns the first mismatch, or undefined. */
function unbalancedTag(html: string): string | undefined {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing || VOID.has(name!.toLowerCase())) continue;
    if (!closing) stack.push(name!);
    else if (stack.pop() !== name) return name;
  }
  return stack.length ? stack[stack.length - 1] : undefined;
}

/** Top-level `<svg>` elements (nested ones stay inside their parent). */
function svgs(html: string): string[] {
  const found: string[] = [];
  let depth = 0;
  let start = 0;
  for (const m of html.matchAll(/<svg\b|<\/svg>/g)) {
    if (m[0] === '</svg>') {
      depth--;
      if (depth === 0) found.push(html.slice(start, m.index + 6));
    } else if (depth++ === 0) start = m.index;
  }
  return found;
}

const NUMERIC_ATTRIBUTES = /\b(x|y|x1|x2|y1|y2|cx|cy|r|width|height)="([^"]*)"/g;

/** Every coordinate of an SVG as numbers; the test fails on anything unparsable. */
function svgNumbers(svg: string): number[] {
  const numbers = [...svg.matchAll(NUMERIC_ATTRIBUTES)].map((m) => Number(m[2]));
  for (const m of svg.matchAll(/\bd="([^"]*)"/g)) {
    expect(m[1]).toMatch(/^[MLHVhvz0-9.,\s-]+$/);
    numbers.push(
      ...m[1]!
        .split(/[MLHVhvz,\s]+/)
        .filter(Boolean)
        .map(Number),
    );
  }
  return numbers;
}

function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

/** Section ids of the report and the step each needs. */
const SECTION_STEPS: Record<string, CalibrationStepName> = {
  'trigger-lag': 'triggerLag',
  dark: 'dark',
  speckle: 'exposure',
  histogram: 'exposure',
  'exposure-sweep': 'exposure',
  reference: 'reference',
  linearity: 'linearity',
  drift: 'stability',
  'transmission-matrix': 'transmissionMatrix',
};

/** Maps pixel positions of a plot back to data through its labelled grid lines (two suffice on each axis). */
function axisFromGrid(svg: string, vertical: boolean, log: boolean): (px: number) => number {
  const ticks: [number, number][] = [];
  for (const m of svg.matchAll(
    /<line x1="([^"]+)" x2="([^"]+)" y1="([^"]+)" y2="([^"]+)" stroke="#eee"\/>\n<text[^>]*>([^<]+)<\/text>/g,
  )) {
    const [x1, x2, y1] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if ((x1 === x2) !== vertical) continue;
    const value = Number(m[5]);
    ticks.push([vertical ? x1 : y1, log ? Math.log10(value) : value]);
  }
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  const [[p0, v0], [p1, v1]] = [ticks[0]!, ticks[ticks.length - 1]!];
  return (px) => {
    const v = v0 + ((px - p0) / (p1 - p0)) * (v1 - v0);
    return log ? 10 ** v : v;
  };
}

/** Bins of a step path (subpaths `M x0,y0 H x1 V y1 H x2 …`, a level spanning to the next x), in pixels. */
function stepBins(d: string): { from: number; to: number; level: number }[] {
  const bins: { from: number; to: number; level: number }[] = [];
  for (const subpath of d.split('M').filter(Boolean)) {
    const [start, ...moves] = subpath.trim().split(/\s+/);
    let [x, level] = start!.split(',').map(Number) as [number, number];
    for (const move of moves) {
      const v = Number(move.slice(1));
      if (move[0] === 'H') {
        bins.push({ from: x, to: v, level });
        x = v;
      } else level = v;
    }
  }
  return bins;
}

// ---- tests ------------------------------------------------------------------------------------------------------

describe('renderCalibrationReport', () => {
  const full = renderCalibrationReport(calibration(CALIBRATION_STEPS), { maxAdu: 4095, truthRelativeError: 0.031 });

  it('is one well-formed, self-contained HTML5 page whose SVGs hold only finite numbers', () => {
    expect(full.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(count(full, '<html')).toBe(1);
    expect(count(full, '</html>')).toBe(1);
    expect(count(full, '<body>')).toBe(1);
    expect(unbalancedTag(full)).toBeUndefined();
    expect(count(full, '<svg')).toBe(count(full, '</svg>'));
    // No fetch of any kind: no script, no stylesheet link, no URL but the SVG namespace.
    expect(full).not.toMatch(/<script|<link|@import|url\(|src=/i);
    expect(full.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:/);
    const figures = svgs(full);
    // Speckle image, histogram, two sweep plots, drift.
    expect(figures).toHaveLength(5);
    for (const svg of figures) {
      expect(svg).not.toMatch(/NaN|Infinity|undefined/);
      const numbers = svgNumbers(svg);
      expect(numbers.length).toBeGreaterThan(20);
      for (const v of numbers) expect(Number.isFinite(v)).toBe(true);
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640"/);
    }
  });

  it('has each step section exactly once, measured exactly when its step is present', () => {
    const subsets: CalibrationStepName[][] = CALIBRATION_STEPS.map((_, k) => CALIBRATION_STEPS.slice(0, k));
    subsets.push([...CALIBRATION_STEPS], ['stability'], ['exposure', 'transmissionMatrix']);
    for (const present of subsets) {
      const html = renderCalibrationReport(calibration(present));
      expect(unbalancedTag(html)).toBeUndefined();
      expect(count(html, '<section id="summary" data-measured="true">')).toBe(1);
      for (const [id, step] of Object.entries(SECTION_STEPS)) {
        const measured = present.includes(step);
        expect(count(html, `<section id="${id}"`)).toBe(1);
        const body = sectionOf(html, id);
        expect(body.startsWith(`<section id="${id}" data-measured="${measured}">`)).toBe(true);
        expect(body.includes('not measured')).toBe(!measured);
        const hasFigure = ['speckle', 'histogram', 'exposure-sweep', 'drift'].includes(id);
        expect(count(body, '<svg') > 0).toBe(measured && hasFigure);
      }
      // The summary's step table says which steps ran.
      const summary = sectionOf(html, 'summary');
      expect(count(summary, 'not measured')).toBe(CALIBRATION_STEPS.length - present.length);
      expect(summary).toContain(`${present.length} of ${CALIBRATION_STEPS.length} steps`);
    }
  });

  it('summarizes device, settings and every step run', () => {
    const summary = sectionOf(full, 'summary');
    for (const text of ['OPU-Sim', 'SIM-0001', '1.2.3', '2025-03-01T09:59:00.000Z', '400 µs', '1000 µs']) {
      expect(summary).toContain(text);
    }
    expect(summary).toContain('64 × 48 px at (0, 0)');
    // Durations 1.5 s … 2.1 s, frames 1 000 … 7 000 and their totals (12.6 s, 28 000 frames, 5.6 s of device time).
    expect(summary).toContain('<td>2.1 s</td>');
    expect(summary).toContain('<td>7\u202f000</td>');
    expect(summary).toContain('<strong>12.6 s</strong>');
    expect(summary).toContain('<strong>28\u202f000</strong>');
    expect(summary).toContain('<strong>5.6 s</strong>');
  });

  it('reports the step figures: dark level, reference SNR, linearity, transmission-matrix quality', () => {
    expect(sectionOf(full, 'dark')).toMatch(/Offset, mean over pixels<\/th><td>12(\.\d+)? ADU/);
    expect(sectionOf(full, 'reference')).toContain('120, meets the target 100');
    expect(sectionOf(full, 'linearity')).toContain('1.2 %');
    const tm = sectionOf(full, 'transmission-matrix');
    for (const text of ['32 × 16', 'anchors', '0.987', '4 %', '2.5 / 17', '5\u202f000', '1.2 s', '3.1 %']) {
      expect(tm).toContain(text);
    }
    const withoutTruth = renderCalibrationReport(calibration(CALIBRATION_STEPS));
    expect(sectionOf(withoutTruth, 'transmission-matrix')).not.toContain('true matrix');
    expect(tm).toContain('true matrix');
  });

  it('draws the ADC maximum on the exposure sweep only when it is given, and always marks the chosen exposure', () => {
    const withLimit = sectionOf(full, 'exposure-sweep');
    const without = sectionOf(renderCalibrationReport(calibration(CALIBRATION_STEPS)), 'exposure-sweep');
    expect(withLimit).toContain('ADC maximum 4095');
    expect(without).not.toContain('ADC maximum');
    expect(count(withLimit, 'chosen 400 µs')).toBe(2);
    expect(count(without, 'chosen 400 µs')).toBe(2);
  });

  it('plots a density that matches the exponential law for an exponential sample', () => {
    const [svg] = svgs(sectionOf(full, 'histogram'));
    const toX = axisFromGrid(svg!, true, false);
    const toY = axisFromGrid(svg!, false, true);
    const steps = /<path d="(M[^"]+)" fill="none" stroke="#1f5fa8"/.exec(svg!)![1]!;
    const bins = stepBins(steps).map(({ from, to, level }) => ({ a: toX(from), b: toX(to), density: toY(level) }));
    let checked = 0;
    for (const { a, b, density } of bins) {
      expect(b - a).toBeCloseTo(0.25, 2);
      const law = (Math.exp(-a) - Math.exp(-b)) / (b - a);
      // Bins holding ≥ 500 of the 20 000 samples: Poisson error under 4.5 %, so 15 % is over 3σ.
      if (law * 0.25 * 20_000 < 500) continue;
      expect(Math.abs(density / law - 1)).toBeLessThan(0.15);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('keeps a 1920 × 1080 speckle image under 300 kB, page included', () => {
    const html = renderCalibrationReport(calibration(CALIBRATION_STEPS, { widthPx: 1920, heightPx: 1080 }));
    expect(Buffer.byteLength(html)).toBeLessThan(300_000);
    expect(sectionOf(html, 'speckle')).toContain('viewBox="0 -0.5 128 72"');
    expect(sectionOf(html, 'speckle')).toContain('each cell is the mean of 15 × 15 pixels');
  });

  it('says DRIFTING for a drifting medium and stable otherwise', () => {
    const verdict = (html: string) => [...html.matchAll(/<span class="verdict (\w+)">([^<]*)<\/span>/g)];
    const drifting = renderCalibrationReport(calibration(CALIBRATION_STEPS, { drifting: true }));
    const stable = renderCalibrationReport(calibration(CALIBRATION_STEPS, { drifting: false }));
    expect(verdict(drifting).map((m) => [m[1], m[2]])).toEqual([['bad', 'DRIFTING']]);
    expect(verdict(stable).map((m) => [m[1], m[2]])).toEqual([['good', 'stable']]);
    // Only a finite decorrelation time has a fitted curve and an interval to draw.
    expect(sectionOf(drifting, 'drift')).toContain('fit, τ = 3.33 min');
    expect(sectionOf(drifting, 'drift')).toContain('recalibrate after 2.01 s');
    expect(sectionOf(stable, 'drift')).not.toContain('fit, τ');
    expect(sectionOf(stable, 'drift')).not.toContain('recalibrate after');
  });

  it('escapes all text it did not write', () => {
    const cal = calibration(CALIBRATION_STEPS);
    cal.device = { ...cal.device, model: '<script>alert("x")</script>', serialNumber: 'A&B', firmwareVersion: '1>0' };
    cal.createdAt = '<now>';
    const html = renderCalibrationReport(cal, { title: 'Report <b>&</b>', source: 'sim://x?a=1&b=<2>' });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<now>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('A&amp;B');
    expect(html).toContain('<title>Report &lt;b&gt;&amp;&lt;/b&gt;</title>');
    expect(html).toContain('sim://x?a=1&amp;b=&lt;2&gt;');
    expect(unbalancedTag(html)).toBeUndefined();
  });

  it('renders finite figures from degenerate measurements: one point, an empty histogram, a 1 × 1 image', () => {
    const cal = calibration(CALIBRATION_STEPS, { widthPx: 1, heightPx: 1 });
    const { exposure, stability } = cal.steps as CalibrationSteps;
    Object.assign(exposure, {
      sweepExposureUs: Float32Array.of(400),
      sweepMaxAdu: Float32Array.of(3000),
      sweepSaturatedPixels: Float32Array.of(0),
      histogramCounts: new Float32Array(exposure.histogramCounts.length),
    });
    Object.assign(stability, { timesS: Float32Array.of(0), correlation: Float32Array.of(0.99) });
    const html = renderCalibrationReport(cal);
    expect(unbalancedTag(html)).toBeUndefined();
    for (const svg of svgs(html)) {
      expect(svg).not.toMatch(/NaN|Infinity|undefined/);
      for (const v of svgNumbers(svg)) expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('gives the same bytes for the same calibration', () => {
    const copy = structuredClone(calibration(CALIBRATION_STEPS));
    expect(renderCalibrationReport(copy, { maxAdu: 4095, truthRelativeError: 0.031 })).toBe(full);
  });
});

describe('histogramDensity', () => {
  it('matches the exponential law for an exponential sample, on uniform and on uneven bins', () => {
    const samples = exponentialSample(200_000, 1);
    const uneven = Float32Array.of(0, 0.1, 0.3, 0.6, 1, 1.5, 2.2, 3, 4, 5.5, 8);
    for (const edges of [uniformEdges(0.25, 8), uneven]) {
      const density = histogramDensity(edges, histogram(samples, edges));
      let mass = 0;
      for (let i = 0; i < density.length; i++) {
        const [a, b] = [edges[i]!, edges[i + 1]!];
        const law = (Math.exp(-a) - Math.exp(-b)) / (b - a);
        mass += density[i]! * (b - a);
        if (law * (b - a) * samples.length >= 2000) expect(Math.abs(density[i]! / law - 1)).toBeLessThan(0.07);
      }
      expect(mass).toBeCloseTo(1, 10);
    }
  });

  it('is zero for an empty histogram and refuses edges that do not bound the bins', () => {
    expect([...histogramDensity([0, 1, 2], [0, 0])]).toEqual([0, 0]);
    expect(() => histogramDensity([0, 1], [1, 2])).toThrow(ArgumentError);
  });
});

describe('speckleImageSvg', () => {
  const whitePath = (svg: string) => /<path stroke="#ffffff" d="([^"]*)"/.exec(svg)?.[1];

  it('encodes each cell row as runs of equal gray, reducing blocks by their mean', () => {
    // Left half dark, right half bright: 2 × 2 blocks make 128 × 128 cells, the bright runs start at cell 64.
    const image = Float32Array.from({ length: 256 * 256 }, (_, i) => (i % 256 < 128 ? 0 : 100));
    const svg = speckleImageSvg(image, 256, 256);
    expect(svg).toContain('viewBox="0 -0.5 128 128"');
    expect(whitePath(svg)).toBe(Array.from({ length: 128 }, (_, r) => `M64 ${r}h64`).join(''));
    expect(count(svg, '<path')).toBe(1);
  });

  it("shows a block's hot pixel with 'max' and its average with 'mean'", () => {
    const image = new Float32Array(256 * 256);
    image[10 * 256 + 10] = 100; // alone in cell (5, 5)
    for (const [y, x] of [
      [200, 200],
      [200, 201],
      [201, 200],
      [201, 201],
    ]) {
      image[y! * 256 + x!] = 50; // fills cell (100, 100)
    }
    expect(whitePath(speckleImageSvg(image, 256, 256, { reduce: 'max' }))).toBe('M5 5h1');
    expect(whitePath(speckleImageSvg(image, 256, 256, { reduce: 'mean' }))).toBe('M100 100h1');
  });

  it('averages a partial edge block over its own pixels', () => {
    // Three equal pixels in blocks of two: a full block and a half one, both of the same mean, so one gray run.
    const svg = speckleImageSvg(Float32Array.of(10, 10, 10), 3, 1, { maxCells: 2 });
    expect(svg).toContain('viewBox="0 -0.5 2 1"');
    expect([...svg.matchAll(/<path stroke="[^"]+" d="([^"]*)"/g)].map((m) => m[1])).toEqual(['M0 0h2']);
  });

  it('labels its colour bar in ADU over the range of the cells', () => {
    const image = Float32Array.from({ length: 100 }, (_, i) => 10 * i);
    const labels = [...speckleImageSvg(image, 10, 10).matchAll(/<text[^>]*dy="4">([^<]+)<\/text>/g)].map((m) =>
      Number(m[1]),
    );
    expect(labels.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...labels)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...labels)).toBeLessThanOrEqual(990);
    expect(Math.max(...labels) - Math.min(...labels)).toBeGreaterThan(500);
  });

  it('refuses an image whose size does not match', () => {
    expect(() => speckleImageSvg(new Float32Array(10), 4, 4)).toThrow(ArgumentError);
  });
});

describe('plot, as the report extends it', () => {
  const frame = (svg: string) => {
    const m = /<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="none"/.exec(svg)!;
    const [x, y, w, h] = m.slice(1).map(Number) as [number, number, number, number];
    return { left: x, right: x + w, top: y, bottom: y + h };
  };

  it('widens the axes to show reference lines outside the data', () => {
    const svg = plot([{ label: 'd', color: '#000', x: [0, 1, 2], y: [1, 2, 3], style: 'line' }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      references: [
        { axis: 'y', value: 10, label: 'limit', color: '#f00' },
        { axis: 'x', value: 5, label: 'chosen', color: '#0f0' },
      ],
    });
    const f = frame(svg);
    const lines = [
      ...svg.matchAll(
        /<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)" stroke="#(f00|0f0)" stroke-width="1.5" stroke-dasharray="6 4"/g,
      ),
    ];
    expect(lines).toHaveLength(2);
    for (const m of lines) {
      const [x1, x2, y1, y2] = m.slice(1, 5).map(Number) as [number, number, number, number];
      for (const x of [x1, x2]) expect(x >= f.left && x <= f.right).toBe(true);
      for (const y of [y1, y2]) expect(y >= f.top && y <= f.bottom).toBe(true);
    }
    // y = 10 is the top of the range, x = 5 its right end.
    expect(Number(lines[0]![3])).toBe(f.top);
    expect(Number(lines[1]![1])).toBe(f.right);
  });

  it('labels a log-x axis spanning less than a decade with round values, not fractional powers', () => {
    const svg = plot([{ label: 'd', color: '#000', x: [150, 800], y: [1, 2], style: 'dots' }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logX: true,
    });
    const labels = [...svg.matchAll(/text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]).slice(2);
    expect(labels).toEqual(['200', '300', '400', '500', '600', '700', '800']);
  });

  it('leaves a gap in a log-scale step curve where a level is zero, closing the level before it', () => {
    const svg = plot([{ label: 'h', color: '#000', x: [0, 1, 2, 3, 4], y: [1, 0.5, 0, 0.2, 0.2], style: 'steps' }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
    });
    const toX = axisFromGrid(svg, true, false);
    const d = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(stepBins(d).map(({ from, to }) => [Math.round(toX(from)), Math.round(toX(to))])).toEqual([
      [0, 1],
      [1, 2],
      [3, 4],
    ]);
  });

  it('stays finite on a single point and draws non-overlapping bars', () => {
    const single = plot([{ label: 'd', color: '#000', x: [3], y: [7], style: 'line' }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
    });
    expect(single).not.toMatch(/NaN|Infinity/);
    const bars = plot([{ label: 'b', color: '#00f', x: [1, 2, 4], y: [5, 0, 3], style: 'bars' }], {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      padding: 0.05,
    });
    const rects = [
      ...bars.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#00f" fill-opacity/g),
    ];
    expect(rects).toHaveLength(3);
    const spans = rects.map((m) => [Number(m[1]), Number(m[1]) + Number(m[3])] as const);
    expect(spans[0]![1]).toBeLessThanOrEqual(spans[1]![0]);
    expect(spans[1]![1]).toBeLessThanOrEqual(spans[2]![0]);
    // Every bar stands on y = 0: top + height is the same baseline.
    const bottoms = rects.map((m) => (Number(m[2]) + Number(m[4])).toFixed(0));
    expect(new Set(bottoms).size).toBe(1);
  });
});
