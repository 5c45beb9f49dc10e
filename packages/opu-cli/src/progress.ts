import type { EpochMetrics, ResumedTraining } from 'dfa-nn';
import type { CalibrationEvent } from 'opu-core';

/** Progress lines at most this often: a bar redraw or a JSON line per acquisition would flood a slow terminal. */
const THROTTLE_MS = 200;
const BAR_WIDTH = 24;

/**
 * Shows calibration progress: on a terminal a bar redrawn in place, with the time left, and one line per finished
 * step; with --json one JSON object per line on stdout (for machines; progress lines carry `etaS`); one line per
 * finished step otherwise (a log file). Frames are counted while measuring, signals and rows while the transmission
 * matrix is computed (its Gram matrix, then its solve).
 */
export function calibrationProgress(
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = () => performance.now(),
) {
  let last = Number.NEGATIVE_INFINITY;
  let barShown = false;
  // The time left extrapolates each count's own rate: the time between two events went into the later one's count
  // (the step's frames are interrupted by the transmission matrix's computations, and go on after them).
  const msSpent = new Map<string, number>();
  let lastEventAt = now();
  const clearBar = () => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  return {
    onEvent(event: CalibrationEvent): void {
      const at = now();
      if (event.type === 'step') {
        msSpent.clear();
        lastEventAt = at;
        if (json) {
          process.stdout.write(`${JSON.stringify(event)}\n`);
          return;
        }
        clearBar();
        if (event.status === 'started') return;
        const note = event.status === 'skipped' ? ' (kept from the resumed calibration)' : '';
        const mark = event.status === 'skipped' ? '↷' : '✓';
        stream.write(`${mark} [${event.index + 1}/${event.total}] ${`${event.step}`.padEnd(19)}${note}\n`);
        return;
      }
      const { phase, unit, done, planned } =
        event.type === 'progress'
          ? { phase: '', unit: 'frames', done: event.framesDone, planned: event.framesPlanned }
          : event;
      // a count at zero has not begun: what came before it (e.g. drawing the signals) is not part of its rate
      const ms = done === 0 ? 0 : (msSpent.get(phase) ?? 0) + (at - lastEventAt);
      msSpent.set(phase, ms);
      lastEventAt = at;
      const finished = done === planned;
      if (at - last < THROTTLE_MS && !finished) return;
      last = at;
      const etaS = planned && done > 0 && done < planned ? (ms / done) * (planned - done) * 1e-3 : undefined;
      if (json) {
        const eta = etaS === undefined ? {} : { etaS: Math.round(etaS * 10) / 10 };
        process.stdout.write(`${JSON.stringify({ ...event, ...eta })}\n`);
        return;
      }
      if (!stream.isTTY) return;
      const label = `${event.step}`.padEnd(19);
      const bar = planned ? `${barText(done / planned)} ` : '';
      const counted = planned ? `${done}/${planned}` : `${done}`;
      const left = etaS === undefined ? '' : `  ${clock(etaS)} left`;
      stream.write(`\r\x1b[2K  ${label} ${phase ? `${phase} ` : ''}${bar}${counted} ${unit}${left}`);
      barShown = true;
    },
    finish(): void {
      clearBar();
    },
  };
}

/** A bar of BAR_WIDTH cells, `fraction` of them full. */
function barText(fraction: number): string {
  const filled = Math.round(Math.min(1, fraction) * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/** 83 → '1:23', 4000 → '1:06:40'. */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  const mmss = `${Math.floor((s % 3600) / 60)}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss.padStart(5, '0')}` : mmss;
}

/**
 * Shows training progress: on a terminal a bar with the time left, redrawn in place, and one line per epoch; with
 * --json one JSON object per line (every batch, epoch, resume and the end) and nothing else.
 */
export function trainingProgress(json: boolean, epochs: number, stream: NodeJS.WriteStream = process.stdout) {
  let last = Number.NEGATIVE_INFINITY;
  let barShown = false;
  // The time left extrapolates the rate since the first batch this process trained (a resumed run skips epochs).
  let first: { at: number; fraction: number } | undefined;
  const clearBar = () => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  const emit = (event: object) => json && stream.write(`${JSON.stringify(event)}\n`);
  const say = (line: string) => {
    if (json) return;
    clearBar();
    stream.write(`${line}\n`);
  };
  return {
    emit,
    say,
    onBatch(epoch: number, done: number, total: number): void {
      emit({ event: 'batch', epoch, done, total });
      const now = performance.now();
      const fraction = (epoch + done / total) / epochs;
      first ??= { at: now, fraction };
      if (json || !stream.isTTY || (now - last < THROTTLE_MS && done < total)) return;
      last = now;
      const perMs = (fraction - first.fraction) / (now - first.at);
      const left = perMs > 0 ? `  ${clock((1 - fraction) / perMs / 1e3)} left` : '';
      stream.write(`\r\x1b[2K  epoch ${epoch + 1}/${epochs} ${barText(done / total)} ${done}/${total}${left}`);
      barShown = true;
    },
    onEpoch(m: EpochMetrics): void {
      emit({ event: 'epoch', ...m });
      const angles = m.alignment.map((a) => `${a.angleDeg.toFixed(1)}°`).join(' ');
      say(
        `  epoch ${m.epoch + 1}: train error ${(100 * m.trainError).toFixed(2)}%, test error ` +
          `${(100 * m.testError).toFixed(2)}%, loss ${m.trainLoss.toFixed(3)}${angles ? `, alignment ${angles}` : ''}` +
          (m.recalibrations ? `, ${m.recalibrations} re-measurements of the OPU's references (medium drift)` : ''),
      );
    },
    onResume({ epochsDone, changes }: ResumedTraining): void {
      emit({ event: 'resume', epochsDone, changes });
      const forced = changes.map((c) => `${c.setting} ${JSON.stringify(c.saved)} → ${JSON.stringify(c.now)}`);
      say(`  resuming after epoch ${epochsDone}${forced.length ? ` (--force: ${forced.join(', ')})` : ''}`);
    },
    finish: clearBar,
  };
}
