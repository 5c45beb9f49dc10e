import type { DmdLayout } from '../measure/layout.js';

/** How a transmission matrix was retrieved from intensity frames (reference §4). */
export type TransmissionMatrixMethod = 'anchors' | 'circulant';

/** What the retrieval measured about its own result. */
export interface TransmissionMatrixQuality {
  /** Pearson correlation between predicted |A·x|² and measured intensities of fresh random half-lit inputs. */
  intensityCorrelation: number;
  /** ‖|A·x|² − I‖ / ‖I‖ over the same fresh inputs. */
  intensityRelativeError: number;
  /** Fresh inputs the two figures above come from. */
  testInputs: number;
  /** Condition number of each output's anchor geometry (2 × 2 multilateration system): median and largest. */
  anchorConditionMedian: number;
  anchorConditionMax: number;
  /**
   * DMD frames shown and device time spent by the retrieval itself, test inputs included (the calibration step's
   * own figures add the dark level and responsivity it measures first).
   */
  frames: number;
  deviceTimeUs: number;
}

/**
 * A complex transmission matrix A (rows = camera pixels of the layout's ROI, cols = the layout's data elements),
 * row-major, in field units √(ADU/µs): a binary input x gives the dark-subtracted intensity |A·x|² in ADU per µs of
 * exposure. Each row is known up to a phase and a conjugation (neither changes any intensity, nor the statistics).
 */
export interface TransmissionMatrix {
  rows: number;
  cols: number;
  re: Float32Array;
  im: Float32Array;
  method: TransmissionMatrixMethod;
  /** Data elements are columns; the layout's reference blocks were the anchors. */
  layout: DmdLayout;
  quality: TransmissionMatrixQuality;
}
