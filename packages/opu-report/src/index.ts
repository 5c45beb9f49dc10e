export {
  histogramDensity,
  type ReportExtras,
  renderCalibrationReport,
  type SpeckleImageOptions,
  speckleImageSvg,
} from './calibration-report.js';
export { type PlotOptions, plot, type ReferenceLine, type Series } from './plot.js';
