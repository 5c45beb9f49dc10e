import { DeviceError } from 'opu-core';
import { fdWriter, type Transport } from 'opu-protocol';
import { SerialPort } from 'serialport';

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
  const fd = (port.port as unknown as { fd: number } | undefined)?.fd;
  if (fd === undefined) throw new DeviceError(`${path} opened without a file descriptor`, { field: 'path' });
  const writer = fdWriter(fd);
  // An error event without a listener would crash the process; a failed port is a closed port to the driver.
  port.on('error', () => {
    if (port.isOpen) port.close(() => undefined);
  });
  return {
    write: async (bytes) => {
      try {
        await writer.write(bytes);
      } catch (error) {
        throw new DeviceError(`write to ${path} failed: ${(error as Error).message}`, { field: 'path', cause: error });
      }
    },
    onData: (listener) => {
      // Handled on the next turn, in order: serialport issues its next read (on a pool thread) first, so that the
      // line is read while the last chunk is decoded.
      const pending: Uint8Array[] = [];
      port.on('data', (data: Buffer) => {
        if (pending.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) > 1) return;
        setImmediate(() => {
          for (const bytes of pending.splice(0)) listener(bytes);
        });
      });
    },
    onClose: (listener) => port.on('close', () => listener()),
    close: async () => {
      // The fd must outlive every write in flight: once closed, its number may name another file.
      await writer.stop();
      await new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      });
    },
  };
}
