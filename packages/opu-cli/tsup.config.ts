import { defineConfig } from 'tsup';
import { program } from '../../tsup.base.ts';

// A program, not a library: no declarations.
export default defineConfig({ ...program({ main: 'src/main.ts' }), clean: true });
