import { ConfigurationError, type OpuBackend, parseOrThrow } from 'opu-core';
import { z } from 'zod';
import { type DiscoveryOptions, discoverOpuPort } from './discovery.js';
import { type SerialDeviceOptionsInput, serialDeviceOptionsSchema } from './options.js';
import { SerialOpuDevice } from './serial-device.js';
import { openSerialTransport } from './serial-transport.js';

/** Driver options that take numbers: every option of the schema but the self-test switch. */
const NUMERIC = Object.keys(serialDeviceOptionsSchema.shape).filter((key) => key !== 'triggerSelfTest');
const DISCOVERY = ['vendorId', 'productId', 'serialNumber'] as const;
/** A UART's line rate in bits per second (USB CDC-ACM ignores it); the fastest UARTs run at a few Mbit/s. */
const baudRateSchema = z.number().int().positive().max(100_000_000);

function driverOptions(params: Map<string, string>): { options: SerialDeviceOptionsInput; baudRate?: number } {
  const options: Record<string, unknown> = {};
  let baudRate: number | undefined;
  for (const [key, raw] of params) {
    if ((DISCOVERY as readonly string[]).includes(key)) continue;
    const value = Number(raw);
    if (key === 'triggerSelfTest') {
      if (raw !== 'true' && raw !== 'false') {
        throw new ConfigurationError(`'${raw}' is not true or false`, {
          field: `url.${key}`,
          fix: 'use true or false',
        });
      }
      options[key] = raw === 'true';
    } else if (NUMERIC.includes(key) || key === 'baudRate') {
      if (raw.trim() === '' || !Number.isFinite(value)) {
        throw new ConfigurationError(`'${raw}' is not a number`, { field: `url.${key}`, fix: `e.g. ${key}=1000` });
      }
      if (key === 'baudRate') {
        baudRate = parseOrThrow(baudRateSchema, value, 'url.baudRate', 'e.g. baudRate=115200', ConfigurationError);
      } else options[key] = value;
    } else {
      throw new ConfigurationError(`unknown parameter '${key}'`, {
        field: `url.${key}`,
        fix: `use one of inputs, outputs, ${[...NUMERIC, 'triggerSelfTest', 'baudRate', ...DISCOVERY].join(', ')}`,
      });
    }
  }
  parseOrThrow(serialDeviceOptionsSchema, options, 'url', 'see docs/opu-driver.md for the ranges', ConfigurationError);
  return { options, ...(baudRate === undefined ? {} : { baudRate }) };
}

/**
 * The `serial://` backend: `serial:///dev/ttyACM0` opens that port; `serial://auto` finds the OPU by its USB ids
 * (`vendorId`, `productId`, `serialNumber` in the query), again at each reconnect. Other query keys set driver
 * options (`timeoutMs=…`, `retries=…`).
 */
export function createSerialBackend(discovery: Pick<DiscoveryOptions, 'listPorts'> = {}): OpuBackend {
  return {
    scheme: 'serial',
    description: 'OPU on a serial line, USB CDC-ACM or the emulator (opu-driver)',
    takesAddress: true,
    createDevice(url, params) {
      const { options, baudRate } = driverOptions(params);
      const auto = url.host === 'auto';
      if (!auto && (url.host !== '' || url.pathname === '')) {
        throw new ConfigurationError(`'${url.href}' names no port`, {
          field: 'url',
          fix: 'use serial:///dev/ttyACM0 (three slashes, then the path) or serial://auto',
        });
      }
      const path = decodeURIComponent(url.pathname);
      const find = {
        ...discovery,
        vendorId: params.get('vendorId'),
        productId: params.get('productId'),
        serialNumber: params.get('serialNumber'),
      };
      const connect = async () =>
        openSerialTransport(auto ? (await discoverOpuPort(withoutUndefined(find))).path : path, { baudRate });
      return new SerialOpuDevice({ connect, options });
    },
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const serialBackend: OpuBackend = createSerialBackend();
