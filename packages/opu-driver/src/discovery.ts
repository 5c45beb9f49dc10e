import { DeviceError } from 'opu-core';
import { SerialPort } from 'serialport';

/** What the OS says about a serial port (serialport's `PortInfo`, the fields discovery uses). */
export interface SerialPortInfo {
  path: string;
  vendorId?: string | undefined;
  productId?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
}

/** USB ids of an OPU: the SDK's reference firmware enumerates with these (pid.codes test range). */
export const DEFAULT_USB_IDS = { vendorId: '1209', productId: '0ca1' } as const;

export interface DiscoveryOptions {
  vendorId?: string;
  productId?: string;
  /** Picks one device when several are plugged in. */
  serialNumber?: string | undefined;
  /** Lists the ports; serialport's enumeration by default. */
  listPorts?: () => Promise<SerialPortInfo[]>;
}

const sameId = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** The ports that look like OPUs: USB vendor and product ids match (and the serial number, when given). */
export async function findOpuPorts(options: DiscoveryOptions = {}): Promise<SerialPortInfo[]> {
  const vendorId = options.vendorId ?? DEFAULT_USB_IDS.vendorId;
  const productId = options.productId ?? DEFAULT_USB_IDS.productId;
  const ports = await (options.listPorts ?? (() => SerialPort.list()))();
  return ports.filter(
    (p) =>
      sameId(p.vendorId, vendorId) &&
      sameId(p.productId, productId) &&
      (options.serialNumber === undefined || p.serialNumber === options.serialNumber),
  );
}

/** The one OPU plugged in, or a DeviceError listing what was seen and how to choose. */
export async function discoverOpuPort(options: DiscoveryOptions = {}): Promise<SerialPortInfo> {
  const vendorId = options.vendorId ?? DEFAULT_USB_IDS.vendorId;
  const productId = options.productId ?? DEFAULT_USB_IDS.productId;
  const found = await findOpuPorts(options);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const seen = await (options.listPorts ?? (() => SerialPort.list()))();
    const list = seen.map((p) => `${p.path} (${p.vendorId ?? '-'}:${p.productId ?? '-'})`).join(', ') || 'none';
    throw new DeviceError(`no OPU with USB ids ${vendorId}:${productId} is plugged in; ports seen: ${list}`, {
      field: 'url',
      fix: 'plug the device in, or give its path (serial:///dev/ttyACM0) or its ids (serial://auto?vendorId=…&productId=…)',
    });
  }
  throw new DeviceError(`${found.length} OPUs found: ${found.map((p) => `${p.path} (${p.serialNumber})`).join(', ')}`, {
    field: 'url',
    fix: 'choose one with serial://auto?serialNumber=… or by its path',
  });
}
