// Writes the ES module face of a library package after `tsup` built its one CommonJS implementation
// (tsup.base.ts says why): for every entry of package.json's `exports` whose `import` is dist/<name>.js and whose
// `require` is dist/<name>.cjs, dist/<name>.js and dist/<name>.d.ts re-export the CommonJS module. Run from the
// package's directory, after tsup (whose declaration step deletes every .d.ts it did not write, so this cannot be
// tsup's onSuccess).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const header = '// The ES module face of the CommonJS build: one implementation per process (tsup.base.ts).\n';
let written = 0;
for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
  const esm = target?.import?.default;
  const cjs = target?.require?.default;
  if (typeof esm !== 'string' || typeof cjs !== 'string') continue;
  if (!existsSync(cjs)) throw new Error(`${manifest.name} exports '${subpath}' as ${cjs}, which tsup did not build`);
  const name = cjs.replace(/^\.\/dist\//, '').replace(/\.cjs$/, '');
  if (esm !== `./dist/${name}.js` || target.import.types !== `./dist/${name}.d.ts`) {
    throw new Error(
      `${manifest.name} exports '${subpath}': import must be ./dist/${name}.js with types ./dist/${name}.d.ts`,
    );
  }
  writeFileSync(`dist/${name}.js`, `${header}export * from './${name}.cjs';\n`);
  writeFileSync(`dist/${name}.d.ts`, `export * from './${name}.cjs';\n`);
  written++;
}
if (written === 0) throw new Error(`${manifest.name} has no export with an import and a require build`);
