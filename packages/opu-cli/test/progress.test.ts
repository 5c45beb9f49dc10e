import { describe, expect, it } from 'vitest';
import { calibrationProgress } from '../src/progress.js';

/** A stream that records what is written, as a terminal or as a file. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream & {
    written: string[];
  };
}

describe('calibration progress', () => {
  it('redraws one bar in place on a terminal and leaves one line per finished step', async () => {
    const tty = stream(true);
    const progress = calibrationProgress(false, tty);
    progress.onEvent({ type: 'step', step: 'transmissionMatrix', status: 'started', index: 6, total: 7 });
    progress.onEvent({ type: 'progress', step: 'transmissionMatrix', framesDone: 500, framesPlanned: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    progress.onEvent({ type: 'progress', step: 'transmissionMatrix', framesDone: 750, framesPlanned: 1000 });
    progress.onEvent({ type: 'progress', step: 'transmissionMatrix', framesDone: 800, framesPlanned: 1000 });
    progress.onEvent({ type: 'step', step: 'transmissionMatrix', status: 'done', index: 6, total: 7 });
    progress.finish();
    const bars = tty.written.filter((w) => w.startsWith('\r\x1b[2K  '));
    expect(bars).toHaveLength(2); // the third progress event came within the throttle period
    expect(bars[0]).toContain(`${'█'.repeat(12)}${'░'.repeat(12)} 500/1000 frames`);
    expect(bars[1]).toContain(`${'█'.repeat(18)}${'░'.repeat(6)} 750/1000 frames`);
    expect(tty.written.at(-1)).toBe('✓ [7/7] transmissionMatrix \n');
  });

  it('writes no bar to a file, only the finished and skipped steps', () => {
    const file = stream(false);
    const progress = calibrationProgress(false, file);
    progress.onEvent({ type: 'step', step: 'dark', status: 'skipped', index: 1, total: 6 });
    progress.onEvent({ type: 'step', step: 'exposure', status: 'started', index: 2, total: 6 });
    progress.onEvent({ type: 'progress', step: 'exposure', framesDone: 64 });
    progress.onEvent({ type: 'step', step: 'exposure', status: 'done', index: 2, total: 6 });
    expect(file.written).toEqual([
      '↷ [2/6] dark                (kept from the resumed calibration)\n',
      '✓ [3/6] exposure           \n',
    ]);
  });
});
