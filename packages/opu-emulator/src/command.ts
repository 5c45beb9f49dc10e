/**
 * The device emulator as a command: plays a simulated OPU on a fresh pseudo-terminal and prints the port's path on
 * the first line of stdout. `--link PATH` also points a symlink at it (as udev's /dev/serial/by-id does), so that
 * a host keeps one path across emulator restarts. Stops on SIGINT/SIGTERM.
 */
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigurationError } from 'opu-core';
import { SimulatedOpuDevice, simOptionsFromParams } from 'opu-sim';
import { faultSchema } from './faults.js';
import { emulateOnPseudoTerminal } from './pty-emulator.js';

const usage = (program: string) => `usage: ${program} [sim://?seed=N&…] [--link PATH] [--corrupt-rate P] [--drop-rate P]
       [--stall-every N --stall-ms MS] [--disconnect-after-frames N] [--baud-rate BPS] [--fault-seed N]
The sim:// query takes the simulator's keys (seed, camera, bitDepth, triggerLagFrames, …).`;

const FLAGS = {
  link: 'link',
  'corrupt-rate': 'corruptRate',
  'drop-rate': 'dropRate',
  'stall-every': 'stallEveryMessages',
  'stall-ms': 'stallMs',
  'disconnect-after-frames': 'disconnectAfterFrames',
  'baud-rate': 'baudRate',
  'fault-seed': 'seed',
} as const;

/**
 * Runs the emulator as a command (`opu-emulator`, `opu emulate`): plays a simulated OPU on a fresh pseudo-terminal,
 * prints the port's path on the first line of stdout and runs until SIGINT/SIGTERM. Bad arguments exit with 2.
 */
export async function runEmulatorCommand(argv: string[], program = 'opu-emulator'): Promise<void> {
  const fail: (message: string) => never = (message) => {
    process.stderr.write(`${program}: ${message}\n${usage(program)}\n`);
    process.exit(2);
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage(program)}\n`);
    return;
  }
  const given = parsed.positionals[0] ?? 'sim://';
  // `sim:/seed=7` parses, with the query as a path: only `sim://?…` is the simulator's form
  if (!/^sim:\/\/\/?(\?|$)/i.test(given) || !URL.canParse(given)) {
    fail(`'${given}' is not a sim:// URL with only query keys (e.g. sim://?seed=7)`);
  }
  const url = new URL(given);
  const faults: Record<string, number> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const raw = parsed.values[flag];
    if (key === 'link' || typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || Number.isNaN(value)) fail(`--${flag}: '${raw}' is not a number`);
    faults[key] = value;
  }
  const checked = faultSchema.safeParse(faults);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const flag = Object.entries(FLAGS).find(([, key]) => key === issue.path[0])?.[0];
    fail(`--${flag}: ${issue.message}`);
  }
  let sim: SimulatedOpuDevice;
  try {
    sim = new SimulatedOpuDevice({ options: simOptionsFromParams(new Map(url.searchParams)) });
  } catch (error) {
    if (error instanceof ConfigurationError) fail(error.message);
    throw error;
  }
  const pty = await emulateOnPseudoTerminal(sim, {
    faults: checked.data,
    onError: (error) => process.stderr.write(`${program}: ${error.message}\n`),
  });
  const link = parsed.values.link as string | undefined;
  if (link) {
    // Replaced atomically: a host reopening the link never finds it missing or half made.
    const staging = `${link}.${process.pid}`;
    symlinkSync(pty.path, staging);
    renameSync(staging, link);
  }
  const stop = async () => {
    await pty.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (link) process.once('exit', () => rmSync(link, { force: true }));
  // Only now: a supervisor that reads the path may stop us at once, and a signal before the handlers would kill
  // the process without closing the pty or removing the link (stdout to a pipe is written synchronously).
  process.stdout.write(`${pty.path}\n`);
}
