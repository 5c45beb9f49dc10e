/**
 * The calibration report: one self-contained HTML page (inline CSS and SVG, no external resource) showing what each
 * calibration step measured. Same calibration, same bytes: nothing depends on the clock or the locale.
 */

import {
  ArgumentError,
  CALIBRATION_STEPS,
  type CalibrationStepName,
  type CalibrationSteps,
  type DarkResult,
  type DeviceCalibration,
  type ExposureResult,
  type LinearityResult,
  type ReferenceResult,
  type StabilityResult,
  type StepRun,
  type TriggerLagResult,
} from 'opu-core';
import {
  escapeHtml,
  facts,
  figure,
  formatInteger,
  formatNumber,
  formatPercent,
  formatRectangle,
  formatSeconds,
  page,
  section,
  table,
} from './calibration-report-html.js';
import { speckleBlockPx, speckleImageSvg } from './calibration-report-speckle.js';
import { plot, type ReferenceLine, type Series } from './plot.js';

export { type SpeckleImageOptions, speckleImageSvg } from './calibration-report-speckle.js';

export interface ReportExtras {
  title?: string;
  /** Relative error vs the true matrix when the device is a simulator. */
  truthRelativeError?: number;
  /** Device URL. */
  source?: string;
  /** The camera's ADC maximum (`OpuInfo.camera.maxAdu`), drawn on the exposure sweep; the calibration lacks it. */
  maxAdu?: number;
}

const STEP_TITLES: Record<CalibrationStepName, string> = {
  triggerLag: 'Trigger lag',
  dark: 'Dark level',
  exposure: 'Exposure',
  reference: 'Reference',
  linearity: 'Linearity',
  stability: 'Stability',
  transmissionMatrix: 'Transmission matrix',
};

const COLORS = { data: '#1f5fa8', model: '#444', chosen: '#1b8a3a', limit: '#c0392b', floor: '#8e44ad' };

const mean = (a: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]!;
  return sum / a.length;
};

/** Smallest and largest value; [∞, −∞] for none. */
function extent(a: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]!);
    hi = Math.max(hi, a[i]!);
  }
  return [lo, hi];
}

/**
 * A histogram as a probability density: counts over (total × bin width), so that it integrates to one over the
 * binned range and compares directly with a law such as e^(−x). Zero everywhere for an empty histogram.
 */
export function histogramDensity(edges: ArrayLike<number>, counts: ArrayLike<number>): Float64Array {
  if (edges.length !== counts.length + 1) {
    throw new ArgumentError(`${edges.length} edges for ${counts.length} bins`, {
      field: 'edges',
      fix: 'pass one more edge than counts',
    });
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const density = new Float64Array(counts.length);
  if (total === 0) return density;
  for (let i = 0; i < counts.length; i++) density[i] = counts[i]! / (total * (edges[i + 1]! - edges[i]!));
  return density;
}

/** Points ordered by abscissa, so that a curve through a sweep tried out of order does not zigzag. */
function sortedByX(x: ArrayLike<number>, y: ArrayLike<number>): { x: number[]; y: number[] } {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  return { x: order.map((i) => x[i]!), y: order.map((i) => y[i]!) };
}

function stepRow(name: CalibrationStepName, run: StepRun | undefined): string[] {
  const title = escapeHtml(STEP_TITLES[name]);
  if (!run) return [title, '<span class="muted">not measured</span>', '', '', ''];
  return [
    title,
    escapeHtml(run.completedAt),
    formatSeconds(run.durationMs / 1e3),
    formatInteger(run.frames),
    formatSeconds(run.deviceTimeUs / 1e6),
  ];
}

function stepsTable(steps: Partial<CalibrationSteps>): string {
  const runs: StepRun[] = CALIBRATION_STEPS.flatMap((name) => (steps[name] ? [steps[name]] : []));
  const total = (f: (r: StepRun) => number) => runs.reduce((sum, r) => sum + f(r), 0);
  const rows = CALIBRATION_STEPS.map((name) => stepRow(name, steps[name]));
  rows.push([
    '<strong>Total</strong>',
    `${runs.length} of ${CALIBRATION_STEPS.length} steps`,
    `<strong>${formatSeconds(total((r) => r.durationMs) / 1e3)}</strong>`,
    `<strong>${formatInteger(total((r) => r.frames))}</strong>`,
    `<strong>${formatSeconds(total((r) => r.deviceTimeUs) / 1e6)}</strong>`,
  ]);
  return table(rows, ['Step', 'Completed', 'Duration', 'Frames', 'Device time']);
}

function summaryBody(cal: DeviceCalibration, extras: ReportExtras): string {
  const { settings: s, layout, device } = cal;
  const rows: [string, string][] = [
    ['Device model', escapeHtml(device.model)],
    ['Serial number', escapeHtml(device.serialNumber)],
    ['Firmware', escapeHtml(device.firmwareVersion)],
  ];
  if (extras.source !== undefined) rows.push(['Source', `<code>${escapeHtml(extras.source)}</code>`]);
  rows.push(
    ['Created', escapeHtml(cal.createdAt)],
    ['Pattern seed', `${cal.seed}`],
    ['Exposure', `${formatNumber(s.exposureUs, 4)} µs`],
    ['Frame time', `${formatNumber(s.frameTimeUs, 4)} µs`],
    ['Gain', `${formatNumber(s.gainDb)} dB`],
    ['Input region', formatRectangle(s.inputRegion, 'mirrors')],
    ['Output ROI', formatRectangle(s.outputRoi, 'px')],
    [
      'Layout',
      `${formatInteger(layout.inputs)} inputs, ${layout.referenceCount} references × ${layout.referenceElements} ` +
        `elements, ${layout.mirrorsPerElement} mirror(s) per element`,
    ],
  );
  return `${facts(rows)}\n<h3>Steps</h3>\n${stepsTable(cal.steps)}`;
}

function triggerLagBody(r: TriggerLagResult): string {
  return (
    facts([['Capture lag', `${r.lagFrames} camera frame(s)`]]) +
    '\n<p>The capture lags the DMD by this many frames; every later acquisition compensates it.</p>'
  );
}

function darkBody(r: DarkResult, exposureUs: number): string {
  const offset = mean(r.offsetAdu);
  const slope = mean(r.slopeAduPerUs);
  return facts([
    ['Pixels', formatInteger(r.offsetAdu.length)],
    ['Offset, mean over pixels', `${formatNumber(offset)} ADU`],
    ['Offset spread (fixed pattern), RMS', `${formatNumber(r.offsetSpreadAdu)} ADU`],
    ['Dark slope, mean over pixels', `${formatNumber(slope)} ADU/µs`],
    [`Dark level at ${formatNumber(exposureUs, 4)} µs`, `${formatNumber(offset + slope * exposureUs)} ADU`],
  ]);
}

/** Standard deviation over mean: 1 for fully developed speckle, lower when the speckle is washed out. */
function speckleContrast(image: Float32Array): number {
  const m = mean(image);
  let sq = 0;
  for (const v of image) sq += (v - m) ** 2;
  return Math.sqrt(sq / image.length) / m;
}

function speckleBody(r: ExposureResult): string {
  const { speckleWidthPx: w, speckleHeightPx: h, speckleImageAdu: image } = r;
  const block = speckleBlockPx(w, h);
  const cells = block === 1 ? 'one pixel per cell' : `each cell is the mean of ${block} × ${block} pixels`;
  const svg = speckleImageSvg(image, w, h, { title: `Speckle image, ${w} × ${h} px` });
  const max = extent(image)[1];
  return (
    figure(svg, `One half-lit frame at ${formatNumber(r.exposureUs, 4)} µs, dark-subtracted; ${cells}.`) +
    facts([
      ['Mean', `${formatNumber(mean(image))} ADU`],
      ['Brightest pixel', `${formatNumber(max)} ADU`],
      ['Speckle contrast σ/⟨I⟩', `${formatNumber(speckleContrast(image))} (1 for fully developed speckle)`],
    ])
  );
}

function histogramBody(r: ExposureResult): string {
  const edges = r.histogramEdges;
  const density = histogramDensity(edges, r.histogramCounts);
  // 'steps' holds each level until the next edge: the last level is repeated to close the last bin.
  const stepY = [...density, density[density.length - 1] ?? 0];
  const first = edges[0]!;
  const last = edges[edges.length - 1]!;
  const lawX = Array.from({ length: 101 }, (_, i) => first + ((last - first) * i) / 100);
  const series: Series[] = [
    { label: 'measured density', color: COLORS.data, x: edges, y: stepY, style: 'steps' },
    {
      label: 'e^(−x), the exponential law',
      color: COLORS.model,
      x: lawX,
      y: lawX.map((x) => Math.exp(-x)),
      style: 'line',
      dashed: true,
    },
  ];
  const svg = plot(series, {
    title: 'Intensity histogram',
    xLabel: 'I / ⟨I⟩',
    yLabel: 'probability density',
    logY: true,
    padding: 0.02,
  });
  const samples = formatInteger(r.histogramCounts.reduce((sum, c) => sum + c, 0));
  return figure(
    svg,
    `${samples} intensities of all test frames over their frame mean, in ${density.length} bins, as a density ` +
      'over the binned range; fully developed speckle follows the exponential law.',
  );
}

function exposureSweepBody(r: ExposureResult, maxAdu: number | undefined): string {
  const exposures = r.sweepExposureUs;
  const [lo, hi] = extent(exposures);
  // A sweep over decades (a doubling search) reads best on a log axis; a narrow one on a linear axis.
  const logX = lo > 0 && hi / lo > 10;
  const chosen: ReferenceLine = {
    axis: 'x',
    value: r.exposureUs,
    label: `chosen ${formatNumber(r.exposureUs, 4)} µs`,
    color: COLORS.chosen,
  };
  const limit: ReferenceLine[] =
    maxAdu === undefined ? [] : [{ axis: 'y', value: maxAdu, label: `ADC maximum ${maxAdu}`, color: COLORS.limit }];
  const brightest = sortedByX(exposures, r.sweepMaxAdu);
  const saturated = sortedByX(exposures, r.sweepSaturatedPixels);
  const xLabel = 'exposure (µs)';
  const brightestSvg = plot([{ label: 'brightest pixel', color: COLORS.data, ...brightest, style: 'line' }], {
    title: 'Exposure sweep: brightest pixel',
    xLabel,
    yLabel: 'ADU',
    logX,
    references: [chosen, ...limit],
    padding: 0.04,
    legend: 'bottom-right',
    height: 340,
  });
  const saturatedSvg = plot([{ label: 'saturated pixels', color: COLORS.limit, ...saturated, style: 'bars' }], {
    title: 'Exposure sweep: saturated pixels',
    xLabel,
    yLabel: 'pixels',
    logX,
    references: [chosen],
    padding: 0.04,
    legend: 'top-left',
    height: 260,
  });
  return (
    facts([
      ['Chosen exposure', `${formatNumber(r.exposureUs, 4)} µs`],
      ['Margin', `${formatNumber(r.margin)} × the longest exposure with no saturated pixel`],
      ['Lit mirrors of the brightest frame', formatInteger(r.litMirrors)],
      ['Responsivity', `${formatNumber(r.responsivity)} ADU per µs per lit mirror`],
      ['Exposures tried', `${exposures.length}`],
    ]) +
    figure(brightestSvg, 'The brightest pixel of the test frames at each exposure tried.') +
    figure(saturatedSvg, 'Saturated pixels at each exposure tried: the chosen exposure must have none.')
  );
}

function referenceBody(r: ReferenceResult): string {
  const outputs = r.amplitude.length;
  const verdict = r.snr >= r.targetSnr ? 'meets the target' : 'below the target';
  return facts([
    ['Averaged frames per reference pattern', formatInteger(r.averagedFrames)],
    ['Reference SNR (median over pixels)', `${formatNumber(r.snr)}, ${verdict} ${formatNumber(r.targetSnr)}`],
    ['References × outputs', `${outputs ? r.referenceIntensity.length / outputs : 0} × ${formatInteger(outputs)}`],
  ]);
}

function linearityBody(r: LinearityResult): string {
  const rows = facts([
    ['Superposition error, binary pairs', formatPercent(r.superpositionError)],
    ['Superposition error, real-valued rows', formatPercent(r.realSuperpositionError)],
    ['Disjoint pairs tested', formatInteger(r.pairs)],
  ]);
  return `${rows}\n<p>‖P(a + b) − P(a) − P(b)‖ / ‖P(a + b)‖: zero for an exactly linear projection.</p>`;
}

/** The threshold is relative to the back-to-back correlation c(0), the noise floor: this is its absolute level. */
const absoluteThreshold = (r: StabilityResult) => r.noiseFloor * r.correlationThreshold;

function driftVerdict(r: StabilityResult): string {
  if (r.drifting) {
    return (
      '<p><span class="verdict bad">DRIFTING</span> the correlation is expected to fall below ' +
      `${formatNumber(r.correlationThreshold, 4)} × its back-to-back value after ` +
      `${formatSeconds(r.recalibrationIntervalS)}: recalibrate at least that often.</p>`
    );
  }
  return '<p><span class="verdict good">stable</span> no significant decline of the correlation: no recalibration needed.</p>';
}

function driftFigure(r: StabilityResult): string {
  const measured = sortedByX(r.timesS, r.correlation);
  const lastTime = Math.max(0, extent(r.timesS)[1]);
  const references: ReferenceLine[] = [
    { axis: 'y', value: r.noiseFloor, label: `noise floor ${formatNumber(r.noiseFloor, 4)}`, color: COLORS.floor },
    {
      axis: 'y',
      value: absoluteThreshold(r),
      label: `threshold ${formatNumber(absoluteThreshold(r), 4)}`,
      color: COLORS.limit,
    },
  ];
  // An interval far beyond the measurement would squash the data into the left edge: it is stated, not drawn.
  const showInterval = Number.isFinite(r.recalibrationIntervalS) && r.recalibrationIntervalS <= 2 * lastTime;
  if (showInterval) {
    references.push({
      axis: 'x',
      value: r.recalibrationIntervalS,
      label: `recalibrate after ${formatSeconds(r.recalibrationIntervalS)}`,
      color: COLORS.chosen,
    });
  }
  const series: Series[] = [{ label: 'measured correlation', color: COLORS.data, ...measured, style: 'line' }];
  if (Number.isFinite(r.timeConstantS)) {
    const end = showInterval ? Math.max(lastTime, r.recalibrationIntervalS) : lastTime;
    const t = Array.from({ length: 101 }, (_, i) => (end * i) / 100);
    // The stability step fits c(t) = c(0)·e^(−t/τ) with c(0) the noise floor.
    series.push({
      label: `fit, τ = ${formatSeconds(r.timeConstantS)}`,
      color: COLORS.model,
      x: t,
      y: t.map((ti) => r.noiseFloor * Math.exp(-ti / r.timeConstantS)),
      style: 'line',
      dashed: true,
    });
  }
  const svg = plot(series, {
    title: 'Drift: correlation with the first repetition',
    xLabel: 'device time (s)',
    yLabel: 'intensity correlation',
    references,
    padding: 0.04,
    legend: 'bottom-left',
  });
  return figure(svg, 'Intensity correlation of each repetition of the probe frames with the first.');
}

function stabilityBody(r: StabilityResult): string {
  const lastTime = Math.max(0, extent(r.timesS)[1]);
  return (
    driftVerdict(r) +
    driftFigure(r) +
    facts([
      ['Noise floor (back-to-back correlation)', formatNumber(r.noiseFloor, 4)],
      ['Decorrelation time', Number.isFinite(r.timeConstantS) ? formatSeconds(r.timeConstantS) : '∞ (no decline)'],
      [
        'Correlation threshold',
        `${formatNumber(r.correlationThreshold, 4)} × noise floor = ${formatNumber(absoluteThreshold(r), 4)}`,
      ],
      ['Recalibration interval', formatSeconds(r.recalibrationIntervalS)],
      ['Measured over', `${formatSeconds(lastTime)}, ${r.timesS.length} repetitions`],
    ])
  );
}

function transmissionMatrixBody(tm: CalibrationSteps['transmissionMatrix'], truthRelativeError?: number): string {
  const q = tm.quality;
  const rows: [string, string][] = [
    ['Size (outputs × inputs)', `${formatInteger(tm.rows)} × ${formatInteger(tm.cols)}`],
    ['Method', escapeHtml(tm.method)],
    ['Intensity correlation', formatNumber(q.intensityCorrelation, 4)],
    ['Intensity relative error', formatPercent(q.intensityRelativeError)],
    ['Fresh test inputs', formatInteger(q.testInputs)],
    [
      'Anchor condition number, median / max',
      `${formatNumber(q.anchorConditionMedian)} / ${formatNumber(q.anchorConditionMax)}`,
    ],
    ['Frames', formatInteger(q.frames)],
    ['Device time', formatSeconds(q.deviceTimeUs / 1e6)],
  ];
  if (truthRelativeError !== undefined) {
    rows.push(['Relative error vs the true matrix (simulator)', formatPercent(truthRelativeError)]);
  }
  return facts(rows);
}

/** A complete, self-contained HTML5 page; a step that has not run has its section say "not measured". */
export function renderCalibrationReport(cal: DeviceCalibration, extras: ReportExtras = {}): string {
  const { steps, device } = cal;
  const title = extras.title ?? `Calibration report — ${device.model} ${device.serialNumber}`;
  const measuredSection = <T>(id: string, heading: string, step: T | undefined, body: (s: T) => string) =>
    section(id, heading, step === undefined ? undefined : body(step));
  const exposure = steps.exposure;
  const sections = [
    section('summary', 'Summary', summaryBody(cal, extras)),
    measuredSection('trigger-lag', 'Trigger lag', steps.triggerLag, triggerLagBody),
    measuredSection('dark', 'Dark level', steps.dark, (r) => darkBody(r, cal.settings.exposureUs)),
    measuredSection('speckle', 'Speckle image', exposure, speckleBody),
    measuredSection('histogram', 'Intensity histogram', exposure, histogramBody),
    measuredSection('exposure-sweep', 'Exposure sweep', exposure, (r) => exposureSweepBody(r, extras.maxAdu)),
    measuredSection('reference', 'Reference', steps.reference, referenceBody),
    measuredSection('linearity', 'Linearity', steps.linearity, linearityBody),
    measuredSection('drift', 'Drift', steps.stability, stabilityBody),
    measuredSection('transmission-matrix', 'Transmission matrix', steps.transmissionMatrix, (tm) =>
      transmissionMatrixBody(tm, extras.truthRelativeError),
    ),
  ];
  const subtitle =
    `${escapeHtml(device.model)} · serial ${escapeHtml(device.serialNumber)} · calibrated ${escapeHtml(cal.createdAt)}` +
    (extras.source === undefined ? '' : ` · <code>${escapeHtml(extras.source)}</code>`);
  return page(title, subtitle, sections);
}
