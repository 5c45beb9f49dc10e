export { type DeviceFactory, runOpuDeviceContract } from './contract.js';
