import { allocateDmdFrames, type CameraFrames, type DmdFrames, MeasurementError, setMirror } from 'opu-core';

/** Longest trigger lag the self-test can see, in frames. */
export const MAX_TRIGGER_LAG_FRAMES = 4;

/**
 * The trigger-lag self-test: one half-lit frame followed by blank ones. Camera frame i shows DMD frame i − lag, so
 * the bright camera frame's index is the lag. A device whose camera does not see the lit frame at all fails it.
 */
export async function measureTriggerLag(
  acquire: (frames: DmdFrames) => Promise<CameraFrames>,
  mirrorsPerFrame: number,
  limits: { minFrames: number; maxFrames: number },
): Promise<number> {
  const count = Math.min(limits.maxFrames, Math.max(limits.minFrames, MAX_TRIGGER_LAG_FRAMES + 2));
  const frames = allocateDmdFrames(count, mirrorsPerFrame);
  for (let j = 0; j < mirrorsPerFrame; j += 2) setMirror(frames, 0, j);
  const shot = await acquire(frames);
  const pixels = shot.widthPx * shot.heightPx;
  const means = Array.from({ length: count }, (_, f) => {
    let sum = 0;
    for (let i = f * pixels; i < (f + 1) * pixels; i++) sum += shot.data[i]!;
    return sum / pixels;
  });
  const lag = means.indexOf(Math.max(...means));
  const others = means.filter((_, f) => f !== lag);
  const background = Math.max(...others);
  // Half a digital number above every blank frame: the lit frame is unmistakable even at a low exposure.
  if (lag > MAX_TRIGGER_LAG_FRAMES || !(means[lag]! > background + 0.5)) {
    throw new MeasurementError(
      `the camera does not see the lit test frame (frame means ${means.map((m) => m.toFixed(1)).join(', ')} ADU)`,
      {
        field: 'triggerSelfTest',
        fix: 'check the laser, the exposure and the trigger cable; open with triggerSelfTest=false to skip the test',
      },
    );
  }
  return lag;
}
