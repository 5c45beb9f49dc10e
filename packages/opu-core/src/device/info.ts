/** What a device is and what it can do. Read-only; reported by the backend at `open()`. */

export interface Range {
  min: number;
  max: number;
}

export interface DmdInfo {
  widthMirrors: number;
  heightMirrors: number;
  mirrorPitchUm: number;
  /** Highest binary pattern rate of the DMD and its controller. */
  maxFrameRateHz: number;
}

export type CameraBitDepth = 8 | 10 | 12;

export interface CameraInfo {
  widthPx: number;
  heightPx: number;
  pixelPitchUm: number;
  bitDepth: CameraBitDepth;
  /** Largest digital number a pixel can report: `2^bitDepth - 1`. */
  maxAdu: number;
  /** Readout time of the full sensor; a smaller ROI reads out faster (see `readoutTimeUs`). */
  fullFrameReadoutUs: number;
  /** Dead time the camera needs between frames on top of `max(readout, exposure)`. */
  frameOverheadUs: number;
}

export interface DeviceLimits {
  exposureUs: Range;
  frameTimeUs: Range;
  gainDb: Range;
  /** Frames one `acquire()` call accepts; the facade splits larger batches into passes. */
  maxFramesPerAcquisition: number;
  /** Fewest frames one `acquire()` accepts; the facade pads shorter batches with blank frames. */
  minFramesPerAcquisition: number;
}

export interface OpuInfo {
  model: string;
  serialNumber: string;
  firmwareVersion: string;
  dmd: DmdInfo;
  camera: CameraInfo;
  limits: DeviceLimits;
}

/** Camera readout time for an ROI of `heightPx` rows: rolling readout is proportional to the number of rows. */
export function readoutTimeUs(camera: CameraInfo, heightPx: number): number {
  return (camera.fullFrameReadoutUs * heightPx) / camera.heightPx;
}

/** Shortest frame time the hardware allows for these settings. */
export function minFrameTimeUs(info: OpuInfo, exposureUs: number, roiHeightPx: number): number {
  const camera = Math.max(readoutTimeUs(info.camera, roiHeightPx), exposureUs) + info.camera.frameOverheadUs;
  return Math.max(camera, 1e6 / info.dmd.maxFrameRateHz, info.limits.frameTimeUs.min);
}
