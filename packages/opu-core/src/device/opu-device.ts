import { ArgumentError, DeviceStateError } from '../support/errors.js';
import { bytesPerFrame, type CameraFrames, type DmdFrames } from './frames.js';
import type { OpuInfo } from './info.js';
import { type OpuSettings, rectangleArea, type SettingsPatch, validateSettings } from './settings.js';

export type DeviceState = 'new' | 'open' | 'closed';

/** What a backend reports when it opens: its description and the settings it starts with. */
export interface OpenedDevice {
  info: OpuInfo;
  settings: OpuSettings;
}

/**
 * The device contract. Public methods check state and arguments once, serialize access, then call the
 * protected `doX()` methods that a backend implements; a backend never re-validates and never sees bad input.
 */
export abstract class OpuDevice implements AsyncDisposable {
  #state: DeviceState = 'new';
  #info: OpuInfo | undefined;
  #settings: OpuSettings | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #opening: Promise<void> | undefined;

  get state(): DeviceState {
    return this.#state;
  }

  get info(): OpuInfo {
    this.#requireOpen('info');
    return this.#info!;
  }

  get settings(): Readonly<OpuSettings> {
    this.#requireOpen('settings');
    return this.#settings!;
  }

  /** Mirrors per DMD frame under the current settings. */
  get inputSize(): number {
    return rectangleArea(this.settings.inputRegion);
  }

  /** Pixels per camera frame under the current settings. */
  get outputSize(): number {
    return rectangleArea(this.settings.outputRoi);
  }

  /** Concurrent calls share one `doOpen()`. */
  open(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closed') {
      return Promise.reject(
        new DeviceStateError('the device was closed', { field: 'open()', fix: 'create a new device object' }),
      );
    }
    this.#opening ??= (async () => {
      try {
        const opened = await this.doOpen();
        this.#info = opened.info;
        this.#settings = validateSettings(opened.settings, opened.info);
        this.#state = 'open';
      } finally {
        this.#opening = undefined;
      }
    })();
    return this.#opening;
  }

  /** Idempotent: closing a closed or never-opened device does nothing; a close during open() waits for it. */
  async close(): Promise<void> {
    if (this.#opening) await this.#opening.catch(() => undefined);
    if (this.#state !== 'open') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'closed';
    await this.#queue.catch(() => undefined);
    await this.doClose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Applies a partial settings change atomically: either every field is applied or none is. */
  async configure(patch: SettingsPatch): Promise<Readonly<OpuSettings>> {
    this.#requireOpen('configure()');
    return this.#exclusive('configure()', async () => {
      // Merged and validated when it runs, so that a patch queued behind another neither undoes it nor is
      // checked against settings that no longer apply.
      const next = validateSettings({ ...this.#settings, ...patch }, this.#info!);
      await this.doConfigure(next);
      this.#settings = next;
      return next;
    });
  }

  /** Shows each frame on the DMD and returns one camera frame per DMD frame, in order. */
  async acquire(frames: DmdFrames): Promise<CameraFrames> {
    this.#requireOpen('acquire()');
    return this.#exclusive('acquire()', async () => {
      // Against the input region in force when the batch runs, not when it was queued.
      this.#validateFrames(frames);
      return this.doAcquire(frames);
    });
  }

  protected abstract doOpen(): Promise<OpenedDevice>;
  protected abstract doClose(): Promise<void>;
  protected abstract doConfigure(settings: OpuSettings): Promise<void>;
  protected abstract doAcquire(frames: DmdFrames): Promise<CameraFrames>;

  #requireOpen(what: string): void {
    if (this.#state !== 'open') {
      const fix = this.#state === 'new' ? 'await device.open() first' : 'open a new device; this one was closed';
      throw new DeviceStateError(`device is ${this.#state === 'new' ? 'not open' : 'closed'}`, { field: what, fix });
    }
  }

  #exclusive<T>(what: string, job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      this.#requireOpen(what);
      return job();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #validateFrames(frames: DmdFrames): void {
    const limits = this.#info!.limits;
    const expected = rectangleArea(this.#settings!.inputRegion);
    if (!frames || !(frames.data instanceof Uint8Array)) {
      throw new ArgumentError('is not a DmdFrames batch with a Uint8Array', {
        field: 'frames.data',
        fix: 'build frames with packDmdFrames() or allocateDmdFrames()',
      });
    }
    if (!Number.isInteger(frames.count) || frames.count < limits.minFramesPerAcquisition) {
      throw new ArgumentError(`${frames.count} frames; the device needs at least ${limits.minFramesPerAcquisition}`, {
        field: 'frames.count',
        fix: 'pad the batch with blank frames (the Opu facade does this for you)',
      });
    }
    if (frames.count > limits.maxFramesPerAcquisition) {
      throw new ArgumentError(`${frames.count} frames exceed the device limit ${limits.maxFramesPerAcquisition}`, {
        field: 'frames.count',
        fix: 'split the batch into passes (the Opu facade does this for you)',
      });
    }
    if (frames.mirrorsPerFrame !== expected) {
      throw new ArgumentError(`${frames.mirrorsPerFrame} mirrors per frame, the input region has ${expected}`, {
        field: 'frames.mirrorsPerFrame',
        fix: 'pack frames for the current settings.inputRegion or configure a region of that size',
      });
    }
    const stride = bytesPerFrame(expected);
    if (frames.data.length !== frames.count * stride) {
      throw new ArgumentError(`${frames.data.length} bytes, expected ${frames.count} × ${stride}`, {
        field: 'frames.data',
        fix: 'each frame takes ceil(mirrorsPerFrame / 8) bytes',
      });
    }
    const tailBits = expected & 7;
    if (tailBits !== 0) {
      const mask = 0xff << tailBits;
      for (let f = 0; f < frames.count; f++) {
        if ((frames.data[f * stride + stride - 1]! & mask) !== 0) {
          throw new ArgumentError('padding bits past the last mirror are set', {
            field: `frames.data[frame ${f}]`,
            fix: 'clear the unused high bits of each frame’s last byte',
          });
        }
      }
    }
  }
}
