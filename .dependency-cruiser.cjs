/**
 * The import rules of opu-sdk (docs/architecture.md), checked by dependency-cruiser on every `npm test`.
 *
 * 1. The layers between packages: each package may import only the packages below it (LAYERS).
 * 2. What a package imports, its package.json declares: `dependencies` for src/, `dependencies` and
 *    `devDependencies` for test/ (workspace packages derived from the manifests; npm packages by npm-no-pkg).
 * 3. Inside opu-core, folders point one way: opu → calibration → measure → device (FOLDERS).
 * 4. No cycles, between modules or between opu-core's folders.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Where each workspace package lives. */
const PACKAGES = {
  'opu-native': 'native',
  'opu-core': 'packages/opu-core',
  'opu-protocol': 'packages/opu-protocol',
  'opu-sim': 'packages/opu-sim',
  'opu-report': 'packages/opu-report',
  'dfa-nn': 'packages/dfa-nn',
  'opu-learn': 'packages/opu-learn',
  'opu-randnla': 'packages/opu-randnla',
  'opu-driver': 'packages/opu-driver',
  'opu-emulator': 'packages/opu-emulator',
  'opu-cli': 'packages/opu-cli',
};

/**
 * The architecture's layer order: the packages each package's sources may import, whatever its manifest says.
 * Kernels at the bottom; the contract on them; protocol, simulator, presentation and learning beside each other on
 * the contract; the driver and the emulator apart (neither imports the other; only the emulator plays a simulator);
 * the CLI on top.
 */
const LAYERS = {
  'opu-native': [],
  'opu-core': ['opu-native'],
  'opu-protocol': ['opu-core', 'opu-native'],
  'opu-sim': ['opu-core', 'opu-native'],
  'opu-report': ['opu-core'],
  'dfa-nn': ['opu-core', 'opu-native'],
  'opu-learn': ['dfa-nn', 'opu-core', 'opu-native'],
  'opu-randnla': ['opu-core', 'opu-native'],
  'opu-driver': ['opu-core', 'opu-protocol'],
  'opu-emulator': ['opu-core', 'opu-native', 'opu-protocol', 'opu-sim'],
  'opu-cli': ['dfa-nn', 'opu-core', 'opu-driver', 'opu-emulator', 'opu-report', 'opu-sim'],
};

/** opu-core's folders from the bottom up: a folder may import only the folders before it. */
const FOLDERS = ['support', 'device', 'encoding', 'operator', 'measure', 'calibration', 'opu'];

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
const manifest = (name) => JSON.parse(readFileSync(join(__dirname, PACKAGES[name], 'package.json'), 'utf8'));
const workspace = (names) => names.map((name) => `${escapeRegExp(PACKAGES[name])}/`);
/** Paths of the workspace packages other than `allowed` (and `self`), as one pattern. */
const otherPackages = (self, allowed) =>
  `^(${workspace(Object.keys(PACKAGES).filter((name) => name !== self && !allowed.includes(name))).join('|')})`;

const packageRules = Object.keys(PACKAGES).flatMap((name) => {
  const dir = escapeRegExp(PACKAGES[name]);
  const { dependencies = {}, devDependencies = {} } = manifest(name);
  const declared = Object.keys(dependencies);
  const declaredForTests = [...declared, ...Object.keys(devDependencies)];
  return [
    {
      name: `layers: ${name}`,
      comment: `${name} may import only ${LAYERS[name].join(', ') || 'no package of this repository'} (docs/architecture.md)`,
      severity: 'error',
      from: { path: `^${dir}/src/` },
      to: { path: otherPackages(name, LAYERS[name]) },
    },
    {
      name: `declared: ${name}`,
      comment: `${name}'s sources import a workspace package its package.json "dependencies" do not declare`,
      severity: 'error',
      from: { path: `^${dir}/src/` },
      to: { path: otherPackages(name, declared) },
    },
    {
      name: `declared for tests: ${name}`,
      comment: `${name}'s tests import a workspace package its package.json does not declare (devDependencies)`,
      severity: 'error',
      from: { path: `^${dir}/test/` },
      to: { path: otherPackages(name, declaredForTests), pathNot: `^${dir}/` },
    },
  ];
});

const folderRules = FOLDERS.map((folder, level) => ({
  name: `opu-core folders: ${folder}`,
  comment: `opu-core/src/${folder} may import only ${FOLDERS.slice(0, level).join(', ') || 'itself'} (opu → calibration → measure → device)`,
  severity: 'error',
  from: { path: `^packages/opu-core/src/${folder}/` },
  to: { path: `^packages/opu-core/src/(${FOLDERS.slice(level + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...packageRules,
    ...folderRules,
    {
      name: 'opu-core files in folders',
      comment: 'every opu-core module lives in one of its layer folders (index.ts aside), so the folder rules see it',
      severity: 'error',
      from: { path: '^packages/opu-core/src/' },
      to: { path: '^packages/opu-core/src/(?!index\\.ts$)[^/]+$' },
    },
    {
      name: 'no-circular',
      comment: 'modules that import each other, directly or through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment: "opu-core's folders import each other in a cycle",
      severity: 'error',
      from: { path: '^packages/opu-core/src/([^/]+)/' },
      to: { path: '^packages/opu-core/src/([^/]+)/', pathNot: '^packages/opu-core/src/$1/', circular: true },
    },
    {
      name: 'npm dependencies declared',
      comment: "an npm package the importing package's package.json does not declare",
      severity: 'error',
      from: { path: '^(packages/[^/]+|native)/(src|test)/' },
      // A key listed only under peerDependenciesMeta counts as npm-no-pkg in dependency-cruiser 17: declared is declared.
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'], dependencyTypesNot: ['npm', 'npm-dev', 'npm-peer'] },
    },
    {
      name: 'sources do not import dev dependencies',
      comment: "a package's sources import what only its devDependencies declare: users would not have it",
      severity: 'error',
      from: { path: '^(packages/[^/]+|native)/src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm', 'npm-peer'] },
    },
    {
      name: 'no unresolvable imports',
      comment: 'an import that resolves to nothing',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(packages/[^/]+|native)/(dist|addon)/' },
    tsConfig: { fileName: join(__dirname, 'tsconfig.json') },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
