import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ConfigurationError,
  DeviceError,
  DeviceStateError,
  MeasurementError,
  OpuError,
  StorageError,
  TimeoutError,
  UnsupportedError,
} from '../src/support/errors.js';

describe('error classes', () => {
  it('form the documented hierarchy', () => {
    const argument = new ArgumentError('bad');
    expect(argument).toBeInstanceOf(ArgumentError);
    expect(argument).toBeInstanceOf(DeviceError);
    expect(argument).toBeInstanceOf(OpuError);
    expect(argument).toBeInstanceOf(Error);
    for (const Class of [DeviceStateError, ArgumentError, UnsupportedError, TimeoutError, MeasurementError]) {
      const error = new Class('x');
      expect(error).toBeInstanceOf(DeviceError);
      expect(error).toBeInstanceOf(OpuError);
    }
    const configuration = new ConfigurationError('x');
    expect(configuration).toBeInstanceOf(OpuError);
    expect(configuration).not.toBeInstanceOf(DeviceError);
    const storage = new StorageError('cannot be written', { field: '/a/b', code: 'ENOSPC', freeBytes: 4096 });
    expect(storage).toBeInstanceOf(OpuError);
    expect(storage).not.toBeInstanceOf(DeviceError);
    expect(storage).toMatchObject({ field: '/a/b', code: 'ENOSPC', freeBytes: 4096 });
    expect(new DeviceStateError('x')).not.toBeInstanceOf(ArgumentError);
    expect(new ArgumentError('x')).not.toBeInstanceOf(DeviceStateError);
  });

  it('are named after their own class, also for subclasses defined elsewhere', () => {
    const classes = {
      OpuError,
      ConfigurationError,
      DeviceError,
      DeviceStateError,
      ArgumentError,
      UnsupportedError,
      TimeoutError,
      MeasurementError,
      StorageError,
    };
    for (const [name, Class] of Object.entries(classes)) {
      const error = new Class('m');
      expect(error.name).toBe(name);
      expect(String(error)).toBe(`${name}: m`);
    }
    class BackendSpecificError extends ArgumentError {}
    expect(new BackendSpecificError('m').name).toBe('BackendSpecificError');
  });

  it('put field and fix into the message and keep them as properties', () => {
    const error = new ArgumentError('30000 µs is too long', {
      field: 'settings.exposureUs',
      fix: 'choose at most 10000 µs',
    });
    expect(error.message).toBe('settings.exposureUs: 30000 µs is too long. Fix: choose at most 10000 µs');
    expect(error.field).toBe('settings.exposureUs');
    expect(error.fix).toBe('choose at most 10000 µs');
    expect(error.stack).toContain('settings.exposureUs');
  });

  it('leave the message alone without details, and keep the cause', () => {
    const plain = new OpuError('plain');
    expect(plain.message).toBe('plain');
    expect(plain.field).toBeUndefined();
    expect(plain.fix).toBeUndefined();
    expect(plain.cause).toBeUndefined();
    expect('cause' in plain).toBe(false);

    const onlyFix = new UnsupportedError('no 16-bit camera', { fix: 'use bitDepth 12' });
    expect(onlyFix.message).toBe('no 16-bit camera. Fix: use bitDepth 12');
    expect(onlyFix.field).toBeUndefined();

    const onlyField = new TimeoutError('no frame in 2 s', { field: 'acquire()' });
    expect(onlyField.message).toBe('acquire(): no frame in 2 s');
    expect(onlyField.fix).toBeUndefined();

    const root = new TypeError('Invalid URL');
    const wrapped = new ConfigurationError("'x' is not a URL", { field: 'url', cause: root });
    expect(wrapped.cause).toBe(root);
  });
});
