import type { CalibrationEvent } from 'opu-core';

/** Progress lines at most this often: a bar redraw or a JSON line per acquisition would flood a slow terminal. */
const THROTTLE_MS = 200;
const BAR_WIDTH = 24;

/**
 * Shows calibration progress: a bar redrawn in place on a terminal, one JSON object per line with --json (on
 * stdout, for machines), and one line per finished step otherwise (a log file).
 */
export function calibrationProgress(json: boolean, stream: NodeJS.WriteStream = process.stderr) {
  let last = Number.NEGATIVE_INFINITY;
  let barShown = false;
  const clearBar = () => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    onEvent(event: CalibrationEvent): void {
      if (event.type === 'progress') {
        const now = performance.now();
        if (now - last < THROTTLE_MS) return;
        last = now;
      }
      if (json) {
        process.stdout.write(`${JSON.stringify(event)}\n`);
        return;
      }
      const label = `${event.step}`.padEnd(19);
      if (event.type === 'step') {
        clearBar();
        if (event.status === 'started') return;
        const note = event.status === 'skipped' ? ' (kept from the resumed calibration)' : '';
        const mark = event.status === 'skipped' ? '↷' : '✓';
        stream.write(`${mark} [${event.index + 1}/${event.total}] ${label}${note}\n`);
        return;
      }
      if (!stream.isTTY) return;
      const { framesDone, framesPlanned } = event;
      const fraction = framesPlanned ? Math.min(1, framesDone / framesPlanned) : undefined;
      const filled = fraction === undefined ? 0 : Math.round(fraction * BAR_WIDTH);
      const bar = fraction === undefined ? '' : `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)} `;
      const count = framesPlanned ? `${framesDone}/${framesPlanned}` : `${framesDone}`;
      stream.write(`\r\x1b[2K  ${label} ${bar}${count} frames`);
      barShown = true;
    },
    finish(): void {
      clearBar();
    },
  };
}
