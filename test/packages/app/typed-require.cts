// The same packages through `require` in a CommonJS TypeScript module (nodenext): the require condition's types.
import core = require('opu-core');
import native = require('opu-native');

const backend: 'native' | 'typescript' = native.kernels.backend;
const isTyped = (error: unknown): error is InstanceType<typeof core.OpuError> => error instanceof core.OpuError;
console.log(backend, isTyped(new Error('untyped')));
// @ts-expect-error openOpu takes a URL string
core.openOpu(42);
