import { describe, expect, it } from 'vitest';
import { referenceStart } from '../src/measure/layout.js';
import { type OpuBackend, openOpu, registerBackend, registeredBackends } from '../src/opu/backends.js';
import { ArgumentError, ConfigurationError, UnsupportedError } from '../src/support/errors.js';
import {
  caught,
  DEFAULT_INFO,
  FakeOpuDevice,
  type FieldMatrix,
  fieldResponse,
  gaussianFieldMatrix,
  makeInfo,
} from './helpers/fake-device.js';

interface Created {
  url: URL;
  params: Map<string, string>;
  device: FakeOpuDevice;
  matrix: FieldMatrix;
}

/**
 * `scheme://?seed=S&lag=L`: a noise-free scattering medium (complex Gaussian transmission matrix) on the fake
 * device, with a camera that lags the DMD by L frames.
 */
function fieldBackend(
  scheme: string,
  description = 'fake field device',
  takesAddress = false,
): OpuBackend & { created: Created[] } {
  const created: Created[] = [];
  return {
    scheme,
    description,
    takesAddress,
    created,
    createDevice(url, params) {
      const matrix = gaussianFieldMatrix(
        Number(params.get('seed') ?? 1),
        DEFAULT_INFO.dmd.widthMirrors * DEFAULT_INFO.dmd.heightMirrors,
        DEFAULT_INFO.camera.widthPx * DEFAULT_INFO.camera.heightPx,
      );
      const device = new FakeOpuDevice({
        info: makeInfo({ limits: { maxFramesPerAcquisition: 256, minFramesPerAcquisition: 2 } }),
        response: fieldResponse(matrix, 1),
        triggerLagFrames: Number(params.get('lag') ?? 0),
      });
      created.push({ url, params, device, matrix });
      return device;
    },
  };
}

describe('openOpu: URL and registry errors', () => {
  it('names the url and lists the registered backends for an unknown scheme', async () => {
    expect(registeredBackends()).toEqual([]);
    const none = (await caught(openOpu('nope://?inputs=4'))) as ConfigurationError;
    expect(none).toBeInstanceOf(ConfigurationError);
    expect(none.field).toBe('url');
    expect(none.message).toContain("no backend for scheme 'nope://'");
    expect(none.message).toContain('(registered: none)');
    expect(none.fix).toMatch(/import the backend package/);

    const a = fieldBackend('fakea');
    const b = fieldBackend('fakeb');
    registerBackend(a);
    registerBackend(b);
    const some = (await caught(openOpu('nope://'))) as ConfigurationError;
    expect(some).toBeInstanceOf(ConfigurationError);
    expect(some.field).toBe('url');
    expect(some.message).toContain('(registered: fakea://, fakeb://)');
    expect(a.created.length + b.created.length).toBe(0);
  });

  it('rejects a string that is not a URL', async () => {
    for (const url of ['not a url', '', '//host/path', 'inputs=1024']) {
      const error = (await caught(openOpu(url))) as ConfigurationError;
      expect(error, url).toBeInstanceOf(ConfigurationError);
      expect(error.field).toBe('url');
      expect(error.message).toContain(`'${url}' is not a URL`);
      expect(error.cause).toBeInstanceOf(TypeError);
    }
  });

  it('rejects facade parameters that are not positive integers before creating a device', async () => {
    const backend = fieldBackend('fakeparams');
    registerBackend(backend);
    const cases: [string, string][] = [
      ['inputs=abc', 'url.inputs'],
      ['inputs=16&outputs=0', 'url.outputs'],
      ['referenceCount=1.5', 'url.referenceCount'],
      ['referenceElements=', 'url.referenceElements'],
      ['mirrorsPerElement=0', 'url.mirrorsPerElement'],
      ['calibrationFrames=-3', 'url.calibrationFrames'],
    ];
    for (const [query, field] of cases) {
      const error = (await caught(openOpu(`fakeparams://?${query}`))) as ConfigurationError;
      expect(error, query).toBeInstanceOf(ConfigurationError);
      expect(error.field).toBe(field);
      expect(error.fix).toMatch(/^e\.g\. \w+=1024$/);
    }
    const abc = (await caught(openOpu('fakeparams://?inputs=abc'))) as ConfigurationError;
    expect(abc.message).toBe("url.inputs: 'abc' is not a positive integer. Fix: e.g. inputs=1024");
    expect(backend.created).toEqual([]);
  });

  it('rejects a URL without //, naming the form it should have', async () => {
    registerBackend(fieldBackend('fakeform'));
    const cases: [string, string][] = [
      ['fakeform:/seed=7', 'fakeform://?seed=7'],
      ['fakeform:seed=7&lag=1', 'fakeform://?seed=7&lag=1'],
      ['fakeform:/dev/x', 'fakeform:///dev/x'],
    ];
    for (const [url, meant] of cases) {
      const error = (await caught(openOpu(url))) as ConfigurationError;
      expect(error, url).toBeInstanceOf(ConfigurationError);
      expect(error.field).toBe('url');
      expect(error.message).toContain(`'${url}' is not of the form fakeform://…`);
      expect(error.fix).toBe(`write ${meant}`);
    }
  });

  it('rejects a host or path where the backend takes none, and a query key given twice', async () => {
    const none = fieldBackend('fakenoaddress');
    registerBackend(none);
    for (const [url, address] of [
      ['fakenoaddress://seed=7', 'seed=7'],
      ['fakenoaddress://lab/bench?seed=7', 'lab/bench'],
      ['fakenoaddress:///x?seed=7', '/x'],
    ]) {
      const error = (await caught(openOpu(url!))) as ConfigurationError;
      expect(error, url).toBeInstanceOf(ConfigurationError);
      expect(error.message).toContain(`names '${address}', but fakenoaddress:// takes only query keys`);
    }
    expect(none.created).toEqual([]);
    const twice = (await caught(openOpu('fakenoaddress://?seed=1&seed=2'))) as ConfigurationError;
    expect(twice).toBeInstanceOf(ConfigurationError);
    expect(twice.field).toBe('url.seed');
    // `scheme:///?…` has the empty path '/', which names nothing
    await using opu = await openOpu('fakenoaddress:///?inputs=8&outputs=4', { calibrate: false });
    expect(opu.inputs).toBe(8);
  });

  it('blames the URL for a value its backend rejects, whatever field the backend names', async () => {
    registerBackend({
      scheme: 'fakestrict',
      description: 'rejects every seed',
      createDevice(_url, params) {
        throw new ArgumentError(`${params.get('seed')} is out of range`, { field: 'options.seed', fix: 'use 0' });
      },
    });
    const error = (await caught(openOpu('fakestrict://?seed=-1'))) as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe('url');
    expect(error.message).toContain("'fakestrict://?seed=-1' sets a value the fakestrict:// backend rejects");
    expect(error.message).toContain('options.seed: -1 is out of range');
    expect(error.cause).toBeInstanceOf(ArgumentError);
  });

  it('replaces a backend registered again under the same scheme', () => {
    registerBackend(fieldBackend('fakedup', 'first'));
    registerBackend(fieldBackend('fakedup', 'second'));
    const dup = registeredBackends().filter((b) => b.scheme === 'fakedup');
    expect(dup.map((b) => b.description)).toEqual(['second']);
  });
});

describe('openOpu with a registered backend', () => {
  it('passes device parameters through, lets options override the URL, and closes on failure', async () => {
    const backend = fieldBackend('fakeopts', 'fake field device at an address', true);
    registerBackend(backend);
    const opu = await openOpu('fakeopts://lab/bench?inputs=16&outputs=8&seed=5&lag=1', {
      inputs: 12,
      calibrate: false,
    });
    const [created] = backend.created;
    expect(created!.url.hostname).toBe('lab');
    expect(Object.fromEntries(created!.params)).toEqual({ seed: '5', lag: '1' });
    expect(opu.inputs).toBe(12);
    expect(opu.outputs).toBe(8);
    expect(opu.calibration).toBeUndefined();
    expect(created!.device.state).toBe('open');
    await opu.close();
    expect(created!.device.state).toBe('closed');

    // the URL's inputs do not fit: the URL is wrong; the same number as an option is the caller's own argument
    const tooBig = (await caught(
      openOpu('fakeopts://?inputs=100000&outputs=8', { calibrate: false }),
    )) as ConfigurationError;
    expect(tooBig).toBeInstanceOf(ConfigurationError);
    expect(tooBig.field).toBe('url.inputs');
    expect(tooBig.message).toMatch(
      /^url\.inputs: inputs and references need \d+ mirrors, the DMD has fewer\. Fix: use/,
    );
    expect(tooBig.cause).toBeInstanceOf(UnsupportedError);
    expect(backend.created[1]!.device.state).toBe('closed');
    expect(backend.created[1]!.device.calls.close).toBe(1);
    const optionTooBig = await caught(openOpu('fakeopts://?outputs=8', { inputs: 100000, calibrate: false }));
    expect(optionTooBig).toBeInstanceOf(UnsupportedError);
    expect((optionTooBig as UnsupportedError).field).toBe('inputs');
  });

  it('calibrates the fake device and projects like the ground-truth matrix', async () => {
    const backend = fieldBackend('fakefield');
    registerBackend(backend);
    const opu = await openOpu('fakefield://?inputs=16&outputs=8&seed=3&lag=1&mirrorsPerElement=1');
    const { device, matrix } = backend.created[0]!;
    expect(device.violations).toEqual([]);
    const calibration = opu.calibration!;
    expect(calibration.triggerLagFrames).toBe(1);
    expect(calibration.referenceCount).toBe(3);

    // Ground truth: u_i = Σ_k w_ik·b_ik with b_ik the field of reference k, B_ij = √2·Re(ū_i·R_ij)/|u_i|, in units
    // where the mean |R_ij|² over the responsivity's region (the whole 32 × 16 DMD here) is one.
    const n = opu.inputs;
    const m = opu.outputs;
    const K = calibration.referenceCount;
    const at = (i: number, j: number) => i * matrix.mirrors + j;
    let power = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < matrix.mirrors; j++) power += matrix.re[at(i, j)]! ** 2 + matrix.im[at(i, j)]! ** 2;
    const unit = Math.sqrt(power / (matrix.mirrors * m));
    const truth = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      let uRe = 0;
      let uIm = 0;
      for (let k = 0; k < K; k++) {
        const start = referenceStart(opu.layout, k);
        for (let j = start; j < start + opu.layout.referenceElements; j++) {
          uRe += calibration.weights[i * K + k]! * matrix.re[at(i, j)]!;
          uIm += calibration.weights[i * K + k]! * matrix.im[at(i, j)]!;
        }
      }
      const u = Math.hypot(uRe, uIm);
      // The calibrated amplitude is |u_i| in √(ADU/µs); the fake's gain is 1 ADU/µs.
      expect(Math.abs(calibration.amplitude[i]! - u) / u).toBeLessThan(0.02);
      for (let j = 0; j < n; j++) {
        truth[i * n + j] = (Math.SQRT2 * (uRe * matrix.re[at(i, j)]! + uIm * matrix.im[at(i, j)]!)) / u / unit;
      }
    }

    const rows = 4;
    const e = new Float32Array(rows * n);
    for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) e[r * n + j] = Math.sin(1 + r * 7 + j * 3) * (r + 1);
    const result = await opu.project(e);
    expect(result.rows).toBe(rows);
    expect(result.cols).toBe(m);
    expect(result.meta.encoding).toBe('bitplanes');
    let squaredError = 0;
    let squaredNorm = 0;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < m; i++) {
        let expected = 0;
        for (let j = 0; j < n; j++) expected += e[r * n + j]! * truth[i * n + j]!;
        squaredError += (result.data[r * m + i]! - expected) ** 2;
        squaredNorm += expected ** 2;
      }
    }
    // Noise-free device: ADU rounding and 8-bit planes (0.2% here), and the responsivity's sampling error, which
    // 8 outputs leave at ≈ 1/√(8·frames) plus the common speckle this too-bright device cannot show (≈ 1% in all).
    expect(Math.sqrt(squaredError / squaredNorm)).toBeLessThan(0.02);
    expect(device.violations).toEqual([]);
    await opu.close();
    expect(device.state).toBe('closed');
  });
});
