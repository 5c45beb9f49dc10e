import { MAX_TRIGGER_LAG_FRAMES, type TriggerLagTest } from 'opu-core';

/**
 * The serial device's trigger-lag self-test at open, as opu-core's `measureTriggerLag` runs it: one half-lit first
 * frame, then blanks, in a single acquisition within the device's frame limits; one try, at the exposure the device
 * opened with.
 */
export function serialTriggerLagTest(limits: { minFrames: number; maxFrames: number }): TriggerLagTest {
  return {
    frames: Math.min(limits.maxFrames, Math.max(limits.minFrames, MAX_TRIGGER_LAG_FRAMES + 2)),
    lit: 'alternate',
    field: 'triggerSelfTest',
    fix: 'check the laser, the exposure and the trigger cable; open with triggerSelfTest=false to skip the test',
  };
}
