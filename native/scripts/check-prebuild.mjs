// opu-native's prepack: a tarball packed on linux-x64 must carry its linux-x64 prebuild, so that it never ships
// without one by accident (the addon not built, or built before prebuilds existed). On other platforms the pack
// goes ahead and this lists the prebuilds it carries: a release is packed on linux-x64 with the other platforms'
// prebuilds copied into prebuilds/ (native/README.md).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const prebuilds = join(dirname(fileURLToPath(import.meta.url)), '..', 'prebuilds');

function binariesIn(folder) {
  try {
    return readdirSync(join(prebuilds, folder)).filter((name) => name.endsWith('.node'));
  } catch {
    return [];
  }
}

const folders = existsSync(prebuilds) ? readdirSync(prebuilds) : [];
const shipped = folders.flatMap((folder) => binariesIn(folder).map((name) => `${folder}/${name}`));

if (process.platform === 'linux' && process.arch === 'x64' && binariesIn('linux-x64').length === 0) {
  console.error(
    'opu-native: refusing to pack without prebuilds/linux-x64/*.node (the tarball would make every linux-x64 user ' +
      'compile or fall back to TypeScript). Build it first: npm run build:native (at the repository root)',
  );
  process.exit(1);
}
console.log(`opu-native: packing the prebuilds ${shipped.join(', ') || '(none)'}`);
