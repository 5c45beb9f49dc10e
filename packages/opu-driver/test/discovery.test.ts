import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, DeviceError, openOpu, registerBackend } from 'opu-core';
import { describe, expect, it } from 'vitest';
import {
  createSerialBackend,
  findOpuPorts,
  listPortsFromSysfs,
  openSerialTransport,
  type SerialPortInfo,
} from '../src/index.js';
import { emulator } from './helpers.js';

let ports: SerialPortInfo[] = [];
registerBackend(createSerialBackend({ listPorts: async () => ports }));

describe('serial:// URLs and discovery', () => {
  it('serial://auto finds the OPU by its USB ids among other ports, and opens it', async () => {
    const pty = await emulator({ seed: 31 });
    ports = [
      { path: '/dev/ttyS0' },
      { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'FTDI1' },
      { path: pty.path, vendorId: '1209', productId: '0CA1', serialNumber: 'SIM-0000001f' },
    ];
    await using opu = await openOpu('serial://auto?timeoutMs=3000', { inputs: 32, outputs: 64 });
    expect(opu.device.info.serialNumber).toBe('SIM-0000001f');
    const out = await opu.project(new Float32Array(32).fill(0.5));
    expect(out.cols).toBe(64);
  });

  it('ids and serial numbers are configurable; none or several matches are clear errors', async () => {
    const pty = await emulator({ seed: 32 });
    ports = [
      { path: pty.path, vendorId: 'cafe', productId: '0001', serialNumber: 'A' },
      { path: '/dev/ttyACM9', vendorId: 'cafe', productId: '0001', serialNumber: 'B' },
    ];
    await expect(openOpu('serial://auto', { inputs: 8, outputs: 16 })).rejects.toThrow(
      /no OPU with USB ids 1209:0ca1 is plugged in; ports seen: .*\/dev\/ttyACM9 \(cafe:0001\)/,
    );
    await expect(openOpu('serial://auto?vendorId=cafe&productId=0001', { inputs: 8, outputs: 16 })).rejects.toThrow(
      /2 OPUs found.*serialNumber=/,
    );
    await using opu = await openOpu('serial://auto?vendorId=CAFE&productId=0001&serialNumber=A', {
      inputs: 8,
      outputs: 16,
    });
    expect(opu.device.info.serialNumber).toBe('SIM-00000020');
    expect(await findOpuPorts({ vendorId: 'cafe', productId: '0001', listPorts: async () => ports })).toHaveLength(2);
  });

  it('bad URLs are ConfigurationErrors naming the parameter', async () => {
    const open = (url: string) => openOpu(url, { inputs: 8, outputs: 16 });
    await expect(open('serial://')).rejects.toThrow(/names no port/);
    await expect(open('serial://ttyACM0')).rejects.toBeInstanceOf(ConfigurationError);
    await expect(open('serial:///dev/ttyACM0?speed=9600')).rejects.toThrow(/url\.speed: unknown parameter/);
    await expect(open('serial:///dev/ttyACM0?timeoutMs=soon')).rejects.toThrow(
      /url\.timeoutMs: 'soon' is not a number/,
    );
    await expect(open('serial:///dev/ttyACM0?timeoutMs=-5')).rejects.toThrow(/url\.timeoutMs/);
    await expect(open('serial:///dev/ttyACM0?triggerSelfTest=no')).rejects.toThrow(/url\.triggerSelfTest/);
    await expect(open('serial:///dev/ttyACM0?baudRate=-5')).rejects.toThrow(/url\.baudRate: .*e\.g\. baudRate=115200/);
    await expect(open('serial:///dev/ttyACM0?baudRate=9600.5')).rejects.toThrow(/url\.baudRate/);
    // A period shorter than a timer's own jitter would declare a healthy device gone ("not answered for 0 ms").
    await expect(open('serial:///dev/ttyACM0?heartbeatMs=0.001')).rejects.toThrow(/url\.heartbeatMs: .*10/);
  });

  it('a port that does not exist is a DeviceError naming it', async () => {
    await expect(openOpu('serial:///dev/no-such-opu', { inputs: 8, outputs: 16 })).rejects.toThrow(
      /cannot open \/dev\/no-such-opu/,
    );
  });

  it('the port is locked: a second program cannot open the device while the driver holds it', async () => {
    const pty = await emulator({ seed: 33 });
    const first = await openSerialTransport(pty.path);
    const error = await openSerialTransport(pty.path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as Error).message).toMatch(/cannot open/);
    await first.close();
    const again = await openSerialTransport(pty.path);
    await again.close();
  });

  it('lists the real serial ports without failing, through sysfs where udevadm is missing', async () => {
    const found = await findOpuPorts();
    expect(Array.isArray(found)).toBe(true);
  });

  it('reads USB ids from a sysfs tree: the tty’s USB device is found above its interface', () => {
    const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
    try {
      const usb = join(root, 'devices', 'usb1', '1-1');
      const iface = join(usb, '1-1:1.0', 'tty');
      mkdirSync(iface, { recursive: true });
      writeFileSync(join(usb, 'idVendor'), '1209\n');
      writeFileSync(join(usb, 'idProduct'), '0ca1\n');
      writeFileSync(join(usb, 'serial'), 'OPU-42\n');
      const uart = join(root, 'devices', 'platform', 'serial8250');
      mkdirSync(uart, { recursive: true });
      const ttys = join(root, 'class', 'tty');
      for (const name of ['ttyACM0', 'ttyS0', 'tty1']) mkdirSync(join(ttys, name), { recursive: true });
      symlinkSync(iface, join(ttys, 'ttyACM0', 'device'));
      symlinkSync(uart, join(ttys, 'ttyS0', 'device'));
      const ports = listPortsFromSysfs(ttys);
      expect(ports).toContainEqual(
        expect.objectContaining({ path: '/dev/ttyACM0', vendorId: '1209', productId: '0ca1', serialNumber: 'OPU-42' }),
      );
      expect(ports.find((p) => p.path === '/dev/ttyS0')?.vendorId).toBeUndefined();
      // A virtual console has no device: it is not a serial port.
      expect(ports.map((p) => p.path)).not.toContain('/dev/tty1');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
