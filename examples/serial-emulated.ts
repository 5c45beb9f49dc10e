/**
 * The serial driver end to end, without hardware: the device emulator plays a simulated OPU on a pseudo-terminal,
 * the SDK opens it as `serial://<pty>` exactly as it would a USB OPU, projects a batch, and checks the result
 * against the simulator opened directly with the same seed (they must be equal to the last bit). A noisy line
 * gives the same numbers; only the retries grow.
 *
 *   npm run example:serial
 *   npm run example:serial -- --corrupt-rate 0.0005   # damage 1 byte in 2000, both ways, once the link is up
 */
import { parseArgs } from 'node:util';
import { measureTriggerLag, Opu, openOpu, seededUniform } from 'opu-core';
import { type SerialOpuDevice, serialTriggerLagTest } from 'opu-driver';
import { emulateOnPseudoTerminal } from 'opu-emulator';
import { SimulatedOpuDevice } from 'opu-sim';

const { values } = parseArgs({ options: { 'corrupt-rate': { type: 'string', default: '0' } } });
const corruptRate = Number(values['corrupt-rate']);
if (!(corruptRate >= 0 && corruptRate <= 0.01)) {
  console.error(`--corrupt-rate: '${values['corrupt-rate']}' is not a probability between 0 and 0.01`);
  process.exit(2);
}

const seed = 7;
const shape = { inputs: 256, outputs: 512 };
const emulated = await emulateOnPseudoTerminal(new SimulatedOpuDevice({ options: { seed } }));
console.log(`emulator: a simulated OPU on ${emulated.path}`);
try {
  // Small chunks and short timeouts when the line is noisy: a damaged 64 KiB chunk would almost never get through.
  const noisy = corruptRate > 0 ? '&chunkBytes=256&timeoutMs=200&retries=50' : '';
  await using serial = await openOpu(`serial://${emulated.path}?triggerSelfTest=true${noisy}`, shape);
  const device = serial.device as SerialOpuDevice;
  console.log(
    `opened ${device.info.model} ${device.info.serialNumber} over the serial line; trigger lag ${device.triggerLagFrames}`,
  );
  emulated.emulator.faults.corruptRate = corruptRate;

  const u = seededUniform(1);
  const e = Float32Array.from({ length: 8 * shape.inputs }, () => (u() < 0.3 ? Math.sign(u() - 0.5) : 0));
  const started = performance.now();
  const overSerial = await serial.project(e);
  const seconds = (performance.now() - started) / 1e3;
  emulated.emulator.faults.corruptRate = 0;

  // The same projection on the simulator itself, after the driver's self-test frames so the noise lines up.
  const sim = new SimulatedOpuDevice({ options: { seed } });
  await sim.open();
  const { minFramesPerAcquisition: minFrames, maxFramesPerAcquisition: maxFrames } = sim.info.limits;
  await measureTriggerLag(
    (frames) => sim.acquire(frames),
    sim.inputSize,
    serialTriggerLagTest({ minFrames, maxFrames }),
  );
  await using direct = await Opu.open(sim, shape);
  const reference = await direct.project(e);

  let differing = 0;
  for (let i = 0; i < reference.data.length; i++) if (overSerial.data[i] !== reference.data[i]) differing++;
  console.log(
    `project(): ${overSerial.rows} × ${overSerial.cols} in ${seconds.toFixed(2)} s, ${overSerial.meta.frames} frames; ` +
      `${differing} of ${reference.data.length} values differ from the simulator's own`,
  );
  console.log(
    `link: ${device.stats.retries} retries, ${device.stats.droppedFrames} damaged frames dropped, ` +
      `${device.stats.staleFrames} stale frames ignored, ${device.stats.reconnects} reconnects`,
  );
  if (differing > 0) process.exitCode = 1;
} finally {
  await emulated.close();
}
