import { allocateDmdFrames, type CameraFrames, type DmdFrames, setMirror } from '../device/frames.js';
import { ArgumentError, MeasurementError } from '../support/errors.js';

/** Longest trigger lag the self-test can see, in frames. */
export const MAX_TRIGGER_LAG_FRAMES = 4;

/** Shows a batch and returns its camera frames, one per DMD frame, in one shot or in several. */
export type AcquireTestFrames = (frames: DmdFrames) => Promise<CameraFrames | readonly CameraFrames[]>;

/** How a caller runs the trigger-lag self-test: the batch it shows and what it does when nothing is seen. */
export interface TriggerLagTest {
  /**
   * DMD frames in the batch: `blanksBefore` blank frames, the lit frame, then blank frames. Lags up to
   * `min(MAX_TRIGGER_LAG_FRAMES, frames − blanksBefore − 1)` can be seen.
   */
  frames: number;
  /** Blank frames shown before the lit one. Default 0. */
  blanksBefore?: number;
  /** Mirrors on in the lit frame: every one (default) or every other one (about half the light). */
  lit?: 'all' | 'alternate';
  /**
   * Called after a batch whose lit frame no camera frame showed: raises the exposure and resolves true, or resolves
   * false when it cannot go higher. Without it the test has one try.
   */
  raiseExposure?: () => Promise<boolean>;
  /** The `field` and `fix` of the MeasurementError a failed test raises. */
  field?: string;
  fix?: string;
}

/**
 * The trigger-lag self-test (LightOn's): one lit frame among blanks; camera frame i shows DMD frame i − lag, so the
 * camera frame that sees the lit one, counted from it, is the lag. It is seen when its mean is half an ADU above
 * every blank frame's: unmistakable even at a low exposure. A camera that never sees it fails the test with a
 * MeasurementError.
 */
export async function measureTriggerLag(
  acquire: AcquireTestFrames,
  mirrorsPerFrame: number,
  test: TriggerLagTest,
): Promise<number> {
  const litFrame = test.blanksBefore ?? 0;
  if (!Number.isInteger(test.frames) || !Number.isInteger(litFrame) || litFrame < 0 || test.frames <= litFrame) {
    throw new ArgumentError(`${test.frames} frames leave no room for a lit frame after ${litFrame} blanks`, {
      field: 'test.frames',
      fix: `show at least blanksBefore + ${MAX_TRIGGER_LAG_FRAMES + 1} frames`,
    });
  }
  const frames = allocateDmdFrames(test.frames, mirrorsPerFrame);
  const step = test.lit === 'alternate' ? 2 : 1;
  for (let j = 0; j < mirrorsPerFrame; j += step) setMirror(frames, litFrame, j);
  for (let raised = false; ; raised = true) {
    const shots = await acquire(frames);
    const means = (Array.isArray(shots) ? shots : [shots as CameraFrames]).flatMap((shot) => frameMeans(shot));
    const lag = lagOf(means, litFrame);
    if (lag !== undefined) return lag;
    if (!(await test.raiseExposure?.())) {
      const list = means.map((m) => m.toFixed(1)).join(', ');
      throw new MeasurementError(
        `the camera does not see the lit test frame${raised ? ', even at the longest exposure' : ''} (frame means ${list} ADU)`,
        {
          field: test.field ?? 'triggerLag',
          fix: test.fix ?? 'check that the laser is on, the ROI sees the speckle and the trigger cable is connected',
        },
      );
    }
  }
}

/**
 * The brightest camera frame from the lit one on, within the lags the test can see, counted from the lit frame;
 * undefined unless its mean is half an ADU above every other frame's.
 */
function lagOf(means: readonly number[], litFrame: number): number | undefined {
  const window = means.slice(litFrame, litFrame + MAX_TRIGGER_LAG_FRAMES + 1);
  const lag = window.indexOf(Math.max(...window));
  const background = Math.max(...means.filter((_, f) => f !== litFrame + lag));
  return means[litFrame + lag]! > background + 0.5 ? lag : undefined;
}

function frameMeans(shot: CameraFrames): number[] {
  const pixels = shot.widthPx * shot.heightPx;
  return Array.from({ length: shot.count }, (_, f) => {
    let sum = 0;
    for (let i = f * pixels; i < (f + 1) * pixels; i++) sum += shot.data[i]!;
    return sum / pixels;
  });
}
