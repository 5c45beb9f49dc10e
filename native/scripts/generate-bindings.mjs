// Writes what is derived from the kernels' one declaration (native/src/kernels/signatures.ts, SIGNATURES):
//   native/addon/src/generated/bindings.h   the C++ argument unpacking and the addon's kernel exports
//   native/README.md, docs/architecture.md   the kernel tables, between their kernel-table markers
// Plain Node, no TypeScript tooling: it runs in the install's build (scripts/build.mjs regenerates the bindings before
// node-gyp compiles them), so it reads SIGNATURES as a JavaScript literal (signatures.ts keeps it data only).
//
//   node native/scripts/generate-bindings.mjs           write every file that differs
//   node native/scripts/generate-bindings.mjs --check   write nothing; exit 1 naming the files that differ
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';

const native = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(native, '..');
const SIGNATURES_TS = join(native, 'src', 'kernels', 'signatures.ts');
export const BINDINGS_H = join(native, 'addon', 'src', 'generated', 'bindings.h');
const README = join(native, 'README.md');
const ARCHITECTURE = join(root, 'docs', 'architecture.md');

const SCALARS = {
  bool: { cpp: 'bool', read: 'toBool', doc: 'bool' },
  i32: { cpp: 'int', read: 'toI32', doc: 'i32' },
  u32: { cpp: 'uint32_t', read: 'toU32', doc: 'u32' },
  f32: { cpp: 'float', read: 'toF32', doc: 'f32' },
  f64: { cpp: 'double', read: 'toF64', doc: 'f64' },
};
// A typed array's element type in C++ (an either-width array is passed as its bytes, with elementSize(x)).
const ARRAYS = {
  Float32Array: { cpp: 'float', doc: 'f32[]' },
  Float64Array: { cpp: 'double', doc: 'f64[]' },
  Int32Array: { cpp: 'int32_t', doc: 'i32[]' },
  Uint8Array: { cpp: 'uint8_t', doc: 'u8[]' },
  Uint32Array: { cpp: 'uint32_t', doc: 'u32[]' },
  'Uint8Array|Uint16Array': { cpp: 'uint8_t', doc: 'u8[] or u16[]' },
};
const DERIVED = {
  length: { suffix: 'Length', cpp: 'long', read: (arg) => `static_cast<long>(length(${arg}))` },
  elementSize: { suffix: 'ElementSize', cpp: 'int', read: (arg) => `elementSize(${arg})` },
};

/** The SIGNATURES literal of signatures.ts, evaluated as JavaScript. */
export function loadSignatures(source = readFileSync(SIGNATURES_TS, 'utf8')) {
  const match = /^export const SIGNATURES = (\{[\s\S]*?^\}) as const/m.exec(source);
  if (!match) throw new Error(`${relative(root, SIGNATURES_TS)}: no "export const SIGNATURES = { … } as const"`);
  return runInNewContext(`(${match[1]})`, Object.create(null), { filename: SIGNATURES_TS });
}

const structName = (kind) => kind.struct.replace(/.*::/, '');
const kindKey = (kind) =>
  typeof kind === 'string' ? kind : `${kind.struct}{${kind.fields.map(([, field]) => field).join(',')}}`;

/** The same string as signatureKey() in signatures.ts: the addon exports it, the loader compares. */
export function signatureKey(table) {
  return Object.entries(table)
    .map(
      ([name, { params, returns }]) => `${name}(${params.map(([, kind]) => kindKey(kind)).join(',')})${returns ?? ''}`,
    )
    .join(';');
}

function memberOf([name, kind, options = {}], index) {
  const arg = `info[${index}]`;
  if (typeof kind === 'object') return { name, type: kind.struct, init: `to${structName(kind)}(${arg})` };
  if (SCALARS[kind]) return { name, type: SCALARS[kind].cpp, init: `${SCALARS[kind].read}(${arg})` };
  if (!ARRAYS[kind]) throw new Error(`unknown kind ${JSON.stringify(kind)} of ${name}`);
  const element = ARRAYS[kind].cpp;
  const type = options.out ? `${element}*` : `const ${element}*`;
  return { name, type, init: `data<${options.out ? element : `const ${element}`}>(${arg})` };
}

/** The call with length(x), orNull(x) and elementSize(x) read from members; the members it needs for that. */
function callOf(kernel, name, params) {
  const names = params.map(([param]) => param);
  const call = kernel.call.includes('(') ? kernel.call : `${kernel.call}(${names.join(', ')})`;
  const derived = new Map();
  const need = (helper, param) => {
    const index = names.indexOf(param);
    if (index < 0) throw new Error(`${name}: ${helper}(${param}) names no parameter`);
    const { suffix, cpp, read } = DERIVED[helper === 'orNull' ? 'length' : helper];
    const member = `${param}${suffix}`;
    derived.set(member, { name: member, type: cpp, init: read(`info[${index}]`) });
    return member;
  };
  const body = call.replace(/\b(length|orNull|elementSize)\((\w+)\)/g, (_, helper, param) => {
    const member = need(helper, param);
    return helper === 'orNull' ? `(${member} > 0 ? ${param} : nullptr)` : member;
  });
  return { body, derived: [...derived.values()] };
}

/** `prefix + call + suffix`, its arguments wrapped at 120 columns, aligned after the parenthesis. */
function wrapCall(prefix, call, suffix) {
  if (prefix.length + call.length + suffix.length <= 120) return [prefix + call + suffix];
  const open = call.indexOf('(');
  const args = [];
  let depth = 0;
  let start = open + 1;
  for (let i = start; i < call.length - 1; i++) {
    if (call[i] === '(') depth++;
    else if (call[i] === ')') depth--;
    else if (call[i] === ',' && depth === 0) {
      args.push(call.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(call.slice(start, -1).trim());
  const lines = [`${prefix}${call.slice(0, open + 1)}`];
  const indent = ' '.repeat(lines[0].length);
  args.forEach((arg, i) => {
    const piece = i === args.length - 1 ? `${arg})${suffix}` : `${arg},`;
    const last = lines[lines.length - 1];
    if (last.length + 1 + piece.length <= 120 || last.endsWith('(')) {
      lines[lines.length - 1] = last.endsWith('(') ? last + piece : `${last} ${piece}`;
    } else lines.push(indent + piece);
  });
  return lines;
}

const pascal = (name) => name[0].toUpperCase() + name.slice(1);

function structReader(kind) {
  const fields = kind.fields.map(([field, fieldKind]) => `${SCALARS[fieldKind].read}(object.Get("${field}"))`);
  return [
    `inline ${kind.struct} to${structName(kind)}(const Napi::Value& value) {`,
    '  const Napi::Object object = value.As<Napi::Object>();',
    `  return ${kind.struct}{${fields.join(`,\n${' '.repeat(kind.struct.length + 10)}`)}};`,
    '}',
  ].join('\n');
}

function callStruct(name, kernel) {
  const members = kernel.params.map(memberOf);
  const { body, derived } = callOf(kernel, name, kernel.params);
  const all = [...members, ...derived];
  const lines = [
    `// ${name}(${kernel.params.map(([param]) => param).join(', ')})${kernel.returns ? ` → ${kernel.returns}` : ''}`,
    `struct ${pascal(name)}Call {`,
    ...all.map(({ name: member, type }) => `  ${type} ${member};`),
    '',
    `  explicit ${pascal(name)}Call(const Napi::CallbackInfo& info)`,
    ...all.map(
      ({ name: member, init }, i) =>
        `${i === 0 ? '      : ' : '        '}${member}(${init})${i === all.length - 1 ? ' {}' : ','}`,
    ),
    ...wrapCall('  auto operator()() const { return ', body, '; }'),
    '};',
  ];
  return lines.join('\n');
}

/** native/addon/src/generated/bindings.h */
export function renderBindings(table) {
  const kernels = Object.entries(table);
  const headers = [...new Set(kernels.map(([, kernel]) => kernel.header)), 'runtime/calls.h'].sort();
  const structs = new Map();
  for (const [, kernel] of kernels) {
    for (const [, kind] of kernel.params) if (typeof kind === 'object') structs.set(kind.struct, kind);
  }
  const exports = kernels.flatMap(([name, kernel]) => [
    `  exports.Set("${name}", Napi::Function::New(env, callSync<${pascal(name)}Call>));`,
    ...(kernel.async
      ? [`  exports.Set("${name}Async", Napi::Function::New(env, callAsync<${pascal(name)}Call>));`]
      : []),
  ]);
  return [
    '// Generated by native/scripts/generate-bindings.mjs from native/src/kernels/signatures.ts: do not edit. After',
    '// changing the declarations run `node native/scripts/generate-bindings.mjs` (npm run build:native does).',
    '// One struct per kernel reads its arguments, validated by the TypeScript side, from the JavaScript call (typed',
    '// arrays as views, no copies) and calls the kernel; registerKernels exports each kernel, and its Async form where',
    "// declared, and the declarations' key that the loader compares with its own.",
    '#pragma once',
    '#include <napi.h>',
    '',
    '#include <cstdint>',
    '',
    ...headers.map((header) => `#include "${header}"`),
    '',
    'namespace opu::bindings {',
    '',
    ...[...structs.values()].flatMap((kind) => [structReader(kind), '']),
    ...kernels.flatMap(([name, kernel]) => [callStruct(name, kernel), '']),
    `inline constexpr const char* kSignature =\n    "${signatureKey(table)}";`,
    '',
    'inline void registerKernels(Napi::Env env, Napi::Object exports) {',
    ...exports,
    '  exports.Set("signature", Napi::String::New(env, kSignature));',
    '}',
    '',
    '}  // namespace opu::bindings',
    '',
  ].join('\n');
}

function argumentsDoc([name, kind, options = {}]) {
  const type = typeof kind === 'object' ? structName(kind) : (SCALARS[kind] ?? ARRAYS[kind]).doc;
  return `${options.out ? '→' : ''}${name}: ${type}`;
}

/** A Markdown table as Biome formats it: cells padded to the widest of their column, at least 3. */
function markdownTable(header, rows) {
  const cellText = (cell) => cell.replaceAll('|', '\\|');
  const all = [header, ...rows].map((row) => row.map(cellText));
  const widths = header.map((_, c) => Math.max(3, ...all.map((row) => row[c].length)));
  const line = (row) => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(all[0]), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join('\n');
}

const kernelCell = (name, kernel) => `\`${name}\`${kernel.async ? ` / \`${name}Async\`` : ''}`;

/** native/README.md's table: every kernel with its raw arguments. */
export function renderReadmeTable(table) {
  return markdownTable(
    ['kernel', 'what', 'arguments (→ written)', 'TypeScript', 'C++'],
    Object.entries(table).map(([name, kernel]) => [
      kernelCell(name, kernel),
      kernel.doc,
      `${kernel.params.map(argumentsDoc).join(', ')}${kernel.returns ? ` → ${kernel.returns}` : ''}`,
      kernel.typescript,
      kernel.native,
    ]),
  );
}

/** docs/architecture.md's table. */
export function renderArchitectureTable(table) {
  return markdownTable(
    ['kernel', 'what', 'C++ specifics'],
    Object.entries(table).map(([name, kernel]) => [`\`${name}\``, kernel.doc, kernel.native]),
  );
}

const BEGIN =
  '<!-- kernel-table: generated by native/scripts/generate-bindings.mjs from native/src/kernels/signatures.ts -->';
const END = '<!-- /kernel-table -->';

/** `text` with the part between the kernel-table markers replaced by `table`. */
function withTable(text, table, file) {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${relative(root, file)}: no kernel-table markers (${BEGIN} … ${END})`);
  return `${text.slice(0, begin + BEGIN.length)}\n\n${table}\n\n${text.slice(end)}`;
}

/** Every derived file: [path, wanted content]. `only: 'bindings'` for the build, which needs just the header. */
export function derivedFiles({ only } = {}) {
  const table = loadSignatures();
  const files = [[BINDINGS_H, renderBindings(table)]];
  if (only === 'bindings') return files;
  files.push([README, withTable(readFileSync(README, 'utf8'), renderReadmeTable(table), README)]);
  files.push([
    ARCHITECTURE,
    withTable(readFileSync(ARCHITECTURE, 'utf8'), renderArchitectureTable(table), ARCHITECTURE),
  ]);
  return files;
}

const current = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Writes the derived files that differ; returns their paths. */
export function writeDerived(options) {
  const changed = derivedFiles(options).filter(([path, content]) => current(path) !== content);
  for (const [path, content] of changed) writeFileSync(path, content);
  return changed.map(([path]) => path);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--check')) {
    const stale = derivedFiles().filter(([path, content]) => current(path) !== content);
    for (const [path] of stale) console.error(`stale: ${relative(root, path)}`);
    if (stale.length > 0) {
      console.error('run node native/scripts/generate-bindings.mjs and commit what it writes');
      process.exit(1);
    }
  } else {
    for (const path of writeDerived()) console.log(`wrote ${relative(root, path)}`);
  }
}
