// The user's app written as an ES module.
import * as dfa from 'dfa-nn';
import * as core from 'opu-core';
import * as native from 'opu-native';
import * as sim from 'opu-sim';
import { exercise } from './exercise.cjs';

await exercise({ native, core, sim, dfa });
