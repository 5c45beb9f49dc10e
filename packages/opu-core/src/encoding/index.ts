export * from './binary-threshold.js';
export type * from './encoder.js';
export * from './separated-bit-planes.js';
export * from './sequential-base-two.js';
export * from './ternary.js';
export * from './thermometer.js';
