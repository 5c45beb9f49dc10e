/**
 * The packages as a user gets them: every workspace's tarball installed into an app outside the repository, on a
 * PATH without a compiler, make or Python, so the addon must come from its prebuild. The app's scripts open
 * sim://, project() and transform(), train a small DFA network on MNIST through the simulated OPU, and check that
 * the native kernels run and that import and require share one state.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  appEnvironment,
  type CommandResult,
  installApp,
  pathWithoutCompiler,
  REPOSITORY,
  removeTemporaries,
  run,
} from './consumer-app.js';

const packed = inject('packed');

function lastJsonLine(result: CommandResult): Record<string, unknown> {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

/** Every ```js block of the READMEs a user reads: the repository's and each package's. */
function readmeSnippets(): { name: string; source: string; commonJs: boolean }[] {
  const readmes = [
    'README.md',
    'native/README.md',
    ...readdirSync(join(REPOSITORY, 'packages')).map((p) => `packages/${p}/README.md`),
  ];
  return readmes.flatMap((readme) => {
    const text = readFileSync(join(REPOSITORY, readme), 'utf8');
    return [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match, index) => ({
      name: `${readme} #${index + 1}`,
      source: match[1]!,
      commonJs: match[1]!.includes('require('),
    }));
  });
}

describe.skipIf(!packed)('an app that installed the tarballs, on a machine without a compiler', () => {
  const env = appEnvironment(pathWithoutCompiler());
  let app: string;

  beforeAll(async () => {
    const { directory, install } = await installApp(packed!, env);
    expect(install.code, install.stderr).toBe(0);
    app = directory;
  }, 600_000);
  afterAll(removeTemporaries);

  it('runs an ES module on the native kernels', async () => {
    const summary = lastJsonLine(await run('node', ['esm.mjs'], { cwd: app, env }));
    expect(summary.kernels).toBe('native');
    expect(summary.projectionError).toBeLessThan(0.15);
  });

  it('runs a CommonJS script, MNIST training included, on the native kernels', async () => {
    const summary = lastJsonLine(await run('node', ['cjs.cjs'], { cwd: app, env }));
    expect(summary.kernels).toBe('native');
    expect(summary.testError).toBeLessThan(0.5);
  });

  it('runs a script that mixes import and require with one registry, one kernels instance, one error class', async () => {
    const result = await run('node', ['mixed.mjs'], { cwd: app, env });
    expect(lastJsonLine(result).kernels).toBe('native');
    expect(result.stderr).not.toContain('opu-native: using the TypeScript kernels');
  });

  it.each(['nodenext', 'bundler'])('type-checks a TypeScript file under moduleResolution %s', async (resolution) => {
    const config = {
      compilerOptions: {
        module: resolution === 'bundler' ? 'preserve' : 'nodenext',
        moduleResolution: resolution,
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      files: resolution === 'bundler' ? ['typed.ts'] : ['typed.ts', 'typed-require.cts'],
    };
    writeFileSync(join(app, `tsconfig.${resolution}.json`), JSON.stringify(config));
    const tsc = await run('node', ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${resolution}.json`], {
      cwd: app,
      env,
    });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  });

  it('answers npx opu --help and npx opu info sim://?seed=7', async () => {
    const help = await run('npx', ['--no-install', 'opu', '--help'], { cwd: app, env });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/usage: opu <command>/);
    const info = await run('npx', ['--no-install', 'opu', 'info', 'sim://?seed=7'], { cwd: app, env });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/sim/i);
  });

  it.each(readmeSnippets())('runs the README snippet $name as written', async ({ name, source, commonJs }) => {
    const file = `snippet-${name.replace(/[^a-z0-9]+/gi, '-')}.${commonJs ? 'cjs' : 'mjs'}`;
    writeFileSync(join(app, file), source);
    const result = await run('node', [file], { cwd: app, env, timeoutMs: 120_000 });
    expect(result.code, `${name}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  });
});
