import { defineConfig } from 'tsup';
import { library, program } from '../../tsup.base.ts';

export default defineConfig([library({ index: 'src/index.ts' }), program({ main: 'src/main.ts' })]);
