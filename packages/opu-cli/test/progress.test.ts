import { describe, expect, it, vi } from 'vitest';
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

  it('shows the time left from each count’s own rate, the retrieval’s computations apart from its frames', () => {
    const tty = stream(true);
    let ms = 0;
    const progress = calibrationProgress(false, tty, () => ms);
    const step = 'transmissionMatrix' as const;
    progress.onEvent({ type: 'step', step, status: 'started', index: 6, total: 7 });
    ms = 1000;
    progress.onEvent({ type: 'progress', step, framesDone: 100, framesPlanned: 1000 });
    ms = 5000;
    progress.onEvent({ type: 'compute', step, phase: 'design', unit: 'signals', done: 0, planned: 64 });
    ms = 11_000;
    progress.onEvent({ type: 'compute', step, phase: 'design', unit: 'signals', done: 32, planned: 64 });
    ms = 21_000;
    progress.onEvent({ type: 'compute', step, phase: 'design', unit: 'signals', done: 64, planned: 64 });
    ms = 22_000;
    progress.onEvent({ type: 'progress', step, framesDone: 200, framesPlanned: 1000 });
    ms = 52_000;
    progress.onEvent({ type: 'compute', step, phase: 'solve', unit: 'rows', done: 10, planned: 4000 });
    const bars = tty.written.filter((w) => w.startsWith('\r\x1b[2K  '));
    expect(bars).toEqual([
      `\r\x1b[2K  transmissionMatrix  ${'█'.repeat(2)}${'░'.repeat(22)} 100/1000 frames  0:09 left`,
      `\r\x1b[2K  transmissionMatrix  design ${'░'.repeat(24)} 0/64 signals`,
      // the 4 s before the count began (drawing the signals) are not part of its rate
      `\r\x1b[2K  transmissionMatrix  design ${'█'.repeat(12)}${'░'.repeat(12)} 32/64 signals  0:06 left`,
      `\r\x1b[2K  transmissionMatrix  design ${'█'.repeat(24)} 64/64 signals`,
      // 200 frames took 2 s of the 22: the 20 s of design do not slow the frames down
      `\r\x1b[2K  transmissionMatrix  ${'█'.repeat(5)}${'░'.repeat(19)} 200/1000 frames  0:08 left`,
      `\r\x1b[2K  transmissionMatrix  solve ${'░'.repeat(24)} 10/4000 rows  3:19:30 left`,
    ]);
  });

  it('adds etaS to the JSON progress lines', () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((text) => lines.push(String(text)) > 0);
    try {
      let ms = 0;
      const progress = calibrationProgress(true, stream(false), () => ms);
      progress.onEvent({ type: 'step', step: 'stability', status: 'started', index: 5, total: 6 });
      ms = 2000;
      progress.onEvent({ type: 'progress', step: 'stability', framesDone: 25, framesPlanned: 100 });
      ms = 2500;
      progress.onEvent({ type: 'progress', step: 'stability', framesDone: 100, framesPlanned: 100 });
    } finally {
      write.mockRestore();
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { type: 'step', step: 'stability', status: 'started', index: 5, total: 6 },
      { type: 'progress', step: 'stability', framesDone: 25, framesPlanned: 100, etaS: 6 },
      { type: 'progress', step: 'stability', framesDone: 100, framesPlanned: 100 },
    ]);
  });
});
