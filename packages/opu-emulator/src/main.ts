#!/usr/bin/env node
/**
 * The `opu-emulator` program (docs/opu-driver.md):
 *
 *   opu-emulator 'sim://?seed=7' --link /tmp/opu0 --corrupt-rate 0.001
 */
import { runEmulatorCommand } from './command.js';

await runEmulatorCommand(process.argv.slice(2));
