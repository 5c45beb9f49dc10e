import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  /** Lists the ports; `listSerialPorts` by default. */
  listPorts?: () => Promise<SerialPortInfo[]>;
}

const SYS_TTY = '/sys/class/tty';

/** Reads a sysfs attribute, trimmed; undefined when absent. */
function attribute(dir: string, name: string): string | undefined {
  const file = join(dir, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/**
 * Serial ports from Linux sysfs, with the USB ids of the device each belongs to. serialport's own listing runs
 * udevadm, which containers and minimal systems lack; sysfs is always there.
 */
export function listPortsFromSysfs(ttyClassDir = SYS_TTY): SerialPortInfo[] {
  if (!existsSync(ttyClassDir)) return [];
  const ports: SerialPortInfo[] = [];
  for (const name of readdirSync(ttyClassDir)) {
    const link = join(ttyClassDir, name, 'device');
    if (!existsSync(link)) continue;
    let dir = realpathSync(link);
    // The USB device is a few levels above the tty's interface.
    for (let up = 0; up < 6 && dir !== '/' && attribute(dir, 'idVendor') === undefined; up++) dir = dirname(dir);
    const usb = attribute(dir, 'idVendor') !== undefined;
    ports.push({
      path: `/dev/${name}`,
      vendorId: usb ? attribute(dir, 'idVendor') : undefined,
      productId: usb ? attribute(dir, 'idProduct') : undefined,
      serialNumber: usb ? attribute(dir, 'serial') : undefined,
      manufacturer: usb ? attribute(dir, 'manufacturer') : undefined,
    });
  }
  return ports;
}

/** serialport's listing, or sysfs where that cannot run. */
export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  try {
    return await SerialPort.list();
  } catch (error) {
    if (process.platform === 'linux') return listPortsFromSysfs();
    throw new DeviceError(`cannot list serial ports: ${(error as Error).message}`, {
      field: 'url',
      fix: 'give the port by its path, e.g. serial:///dev/ttyACM0',
    });
  }
}

const sameId = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** Whether a port's USB ids (and serial number, when given) are an OPU's. */
function isOpu(port: SerialPortInfo, options: DiscoveryOptions): boolean {
  return (
    sameId(port.vendorId, options.vendorId ?? DEFAULT_USB_IDS.vendorId) &&
    sameId(port.productId, options.productId ?? DEFAULT_USB_IDS.productId) &&
    (options.serialNumber === undefined || port.serialNumber === options.serialNumber)
  );
}

/** The ports that look like OPUs: USB vendor and product ids match (and the serial number, when given). */
export async function findOpuPorts(options: DiscoveryOptions = {}): Promise<SerialPortInfo[]> {
  const ports = await (options.listPorts ?? listSerialPorts)();
  return ports.filter((p) => isOpu(p, options));
}

/** The one OPU plugged in, or a DeviceError listing what was seen and how to choose. */
export async function discoverOpuPort(options: DiscoveryOptions = {}): Promise<SerialPortInfo> {
  const seen = await (options.listPorts ?? listSerialPorts)();
  const found = seen.filter((p) => isOpu(p, options));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    const vendorId = options.vendorId ?? DEFAULT_USB_IDS.vendorId;
    const productId = options.productId ?? DEFAULT_USB_IDS.productId;
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
