#!/usr/bin/env node
/**
 * The `opu` command: devices, info, calibrate, project, bench, train, emulate.
 * Exit codes: 0 done, 1 the device or the link failed, 2 the command line or a URL is wrong, 3 a calibration file
 * cannot be used, 4 a file could not be written.
 */
import 'opu-sim';
import 'opu-driver';
import { runEmulatorCommand } from 'opu-emulator';
import { BENCH_USAGE, bench } from './bench.js';
import { CALIBRATE_USAGE, calibrate } from './calibrate.js';
import { DEVICES_USAGE, devices } from './devices.js';
import { EXIT, report } from './exit.js';
import { INFO_USAGE, info } from './info.js';
import { PROJECT_USAGE, project } from './project.js';
import { TRAIN_USAGE, train } from './train.js';

const USAGE = `usage: opu <command> [options]   (opu <command> --help for each)
  devices            list serial ports and mark the OPUs among them
  info <url>         open a device and print what it is and its settings
  calibrate <url>    calibrate (dark, exposure, reference, linearity, drift, --tm matrix) into a file + report
  project <url>      project the vectors of a file (--in FILE) as a quick check
  bench <url>        throughput and accuracy of project() and transform()
  train              train a network on MNIST (or IDX files) by DFA through an OPU, or by BP/FA/IFA
  emulate [sim://…]  play a simulated OPU on a pseudo-terminal (prints its path)
exit codes: 0 done, 1 device or link failed, 2 bad command line or URL, 3 unusable calibration file,
            4 a file could not be written (disk full, no permission)`;

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  devices: { usage: DEVICES_USAGE, run: devices },
  info: { usage: INFO_USAGE, run: info },
  calibrate: { usage: CALIBRATE_USAGE, run: calibrate },
  project: { usage: PROJECT_USAGE, run: project },
  bench: { usage: BENCH_USAGE, run: bench },
  train: { usage: TRAIN_USAGE, run: train },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  if (command === 'emulate') {
    await runEmulatorCommand(rest, 'opu emulate');
    return EXIT.ok;
  }
  const chosen = COMMANDS[command];
  if (!chosen) {
    process.stderr.write(`opu: unknown command '${command}'\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${chosen.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await chosen.run(rest);
  } catch (error) {
    const code = report(error, `opu ${command}`, rest.includes('--json'));
    if (code === EXIT.usage) process.stderr.write(`${chosen.usage}\n`);
    return code;
  }
}

const code = await main(process.argv.slice(2));
// The emulator keeps running until a signal; every other command ends here.
if (process.argv[2] !== 'emulate') process.exit(code);
