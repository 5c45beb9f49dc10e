// An ES module that also requires the same packages (a CommonJS dependency of the app would): both roads must lead
// to one backend registry, one kernels instance (one thread pool) and one class per error.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as core from 'opu-core';
import * as native from 'opu-native';
import { exercise } from './exercise.cjs';

const require = createRequire(import.meta.url);
const required = { core: require('opu-core'), native: require('opu-native') };
assert.equal(required.core.openOpu, core.openOpu, 'one opu-core');
assert.equal(required.native.kernels, native.kernels, 'one kernels instance, one thread pool');
assert.equal(required.core.ConfigurationError, core.ConfigurationError, 'one class per error');
const error = new required.core.ConfigurationError('from the required copy', { field: 'url', fix: 'none' });
assert.ok(error instanceof core.ConfigurationError && error instanceof core.OpuError, 'instanceof across the two');

// opu-sim is required (CommonJS), dfa-nn imported: the backend it registers is seen by the imported openOpu.
await exercise({ native, core, sim: require('opu-sim'), dfa: await import('dfa-nn') });
