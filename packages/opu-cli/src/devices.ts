import { parseArgs } from 'node:util';
import { DEFAULT_USB_IDS, listSerialPorts } from 'opu-driver';

export const DEVICES_USAGE = `usage: opu devices [--json] [--vendor-id HEX] [--product-id HEX]
Lists the serial ports with their USB ids; those with the OPU's ids (default ${DEFAULT_USB_IDS.vendorId}:${DEFAULT_USB_IDS.productId}) are marked.`;

/** `opu devices`: the serial ports, and which look like OPUs. */
export async function devices(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, 'vendor-id': { type: 'string' }, 'product-id': { type: 'string' } },
  });
  const vendorId = (values['vendor-id'] ?? DEFAULT_USB_IDS.vendorId).toLowerCase();
  const productId = (values['product-id'] ?? DEFAULT_USB_IDS.productId).toLowerCase();
  const ports = await listSerialPorts();
  for (const port of ports) {
    const opu = port.vendorId?.toLowerCase() === vendorId && port.productId?.toLowerCase() === productId;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...port, opu, url: `serial://${port.path}` })}\n`);
      continue;
    }
    const ids = port.vendorId ? `${port.vendorId}:${port.productId}` : 'no USB ids';
    const serial = port.serialNumber ? ` serial ${port.serialNumber}` : '';
    process.stdout.write(`${opu ? 'OPU ' : '    '}${port.path.padEnd(16)} ${ids}${serial}\n`);
  }
  if (!values.json && ports.length === 0) process.stdout.write('no serial ports\n');
  return 0;
}
