import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  decodeHelloReply,
  encodeHello,
  MessageType,
  memoryTransportPair,
  PROTOCOL_VERSION,
  ProtocolLink,
  SETTINGS_SCHEMA_HASH,
} from 'opu-protocol';
import { SimulatedOpuDevice } from 'opu-sim';
import { describe, expect, it } from 'vitest';
import { OpuEmulator } from '../src/index.js';

const hello = (major = PROTOCOL_VERSION) =>
  encodeHello({ major, minor: 0, maxPayloadBytes: 1 << 20, credits: 8, chunkBytes: 1024 });

/** The device side alone, spoken to in raw protocol messages: no driver involved. */
async function emulated() {
  const [host, wire] = memoryTransportPair();
  const simulator = new SimulatedOpuDevice({ options: { seed: 3 } });
  const emulator = new OpuEmulator(simulator, wire);
  await emulator.start();
  const link = new ProtocolLink(host, { role: 'host', maxPayloadBytes: 64 * 2 ** 20 });
  return { simulator, emulator, link };
}

describe('OpuEmulator (the device side of the protocol)', () => {
  it('answers HELLO with the simulator’s own info, the settings schema hash and a session', async () => {
    const { simulator, emulator, link } = await emulated();
    const reply = decodeHelloReply(
      (await link.request(MessageType.hello, hello(), MessageType.helloReply, 2000)).payload,
    );
    expect(reply.major).toBe(PROTOCOL_VERSION);
    expect(Buffer.from(reply.schemaHash)).toEqual(Buffer.from(SETTINGS_SCHEMA_HASH));
    expect(JSON.parse(reply.info)).toEqual(JSON.parse(JSON.stringify(simulator.info)));
    expect(emulator.stats.sessions).toBe(1);
    await link.close();
    await emulator.close();
  });

  it('refuses a HELLO of another major version, then serves the next HELLO on the same line', async () => {
    const { emulator, link } = await emulated();
    await expect(
      link.request(MessageType.hello, hello(PROTOCOL_VERSION + 1), MessageType.helloReply, 2000),
    ).rejects.toThrow(/version/i);
    const reply = await link.request(MessageType.hello, hello(), MessageType.helloReply, 2000);
    expect(decodeHelloReply(reply.payload).major).toBe(PROTOCOL_VERSION);
    await link.close();
    await emulator.close();
  });
});

describe('the opu-emulator command', () => {
  it('prints the path of a pseudo-terminal it serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/opu-emulator/src/main.ts', 'sim://?seed=2'], {
      cwd: new URL('../../..', import.meta.url).pathname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [path] = (await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next()).value.split(' ');
    expect(path).toMatch(/^\/dev\/pts\/\d+$/);
    expect(existsSync(path)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
