import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { encodeFrame, encodeUploadFrames, MessageType, openSerialTransport, ProtocolLink } from 'opu-driver';

const piece = 65536;
const n = 1000;
const total = piece * n;
const data = Uint8Array.from({ length: piece }, (_, i) => (i * 2654435761) >>> 24);
for (const round of [1, 2, 3])
  for (const mode of ['raw', 'pre', 'encode']) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'exp-child.ts',
        mode === 'raw' ? 'raw' : 'decode',
        String(mode === 'raw' ? total : total + 4 * n),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! });
    const path = await new Promise<string>((r) => lines.once('line', r));
    const host = await openSerialTransport(path);
    const link = new ProtocolLink(host);
    const wire = encodeFrame({
      version: 1,
      type: MessageType.uploadFrames,
      sequence: 0,
      requestId: 1,
      payload: encodeUploadFrames({ offset: 0, bytes: data }),
    });
    const done = new Promise<string>((r) => lines.once('line', r));
    const t = performance.now();
    const sends: Promise<void>[] = [];
    for (let k = 0; k < n; k++) {
      if (mode === 'raw') sends.push(host.write(data));
      else if (mode === 'pre') sends.push(host.write(wire));
      else sends.push(link.send(MessageType.uploadFrames, encodeUploadFrames({ offset: k * piece, bytes: data }), 1));
      if (sends.length >= 8) await sends.shift();
    }
    await Promise.all(sends);
    const reads = await done;
    console.log(round, mode.padEnd(6), 'MB/s', (total / (performance.now() - t) / 1e3).toFixed(1), reads);
    await link.close();
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  }
