import { DeviceError } from 'opu-core';
import { SerialPort } from 'serialport';
import type { Transport } from './transport.js';

export interface SerialOptions {
  /** Bits per second; USB CDC-ACM ignores it, a UART does not. */
  baudRate?: number;
}

/**
 * A serial port (a USB CDC-ACM device, or the emulator's pseudo-terminal) as a Transport. The port is locked for
 * exclusive use, and the modem lines are left alone (a pseudo-terminal has none).
 */
export async function openSerialTransport(path: string, options: SerialOptions = {}): Promise<Transport> {
  const port = new SerialPort({
    path,
    baudRate: options.baudRate ?? 115_200,
    lock: true,
    hupcl: false,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) =>
    port.open((error) =>
      error
        ? reject(
            new DeviceError(`cannot open ${path}: ${error.message}`, {
              field: 'path',
              fix: 'check the path (opu devices lists the ports), that no other program holds it, and permissions',
            }),
          )
        : resolve(),
    ),
  );
  // An error event without a listener would crash the process; a failed port is a closed port to the driver.
  port.on('error', () => {
    if (port.isOpen) port.close(() => undefined);
  });
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        const failed = (error: Error) =>
          reject(new DeviceError(`write to ${path} failed: ${error.message}`, { field: 'path' }));
        port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => {
          if (error) failed(error);
        });
        port.drain((error) => (error ? failed(error) : resolve()));
      }),
    onData: (listener) => port.on('data', (data: Buffer) => listener(new Uint8Array(data))),
    onClose: (listener) => port.on('close', () => listener()),
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
