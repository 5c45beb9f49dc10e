import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('examples/random-features-mnist.ts, as a user runs it', () => {
  it('prints optical features beating the linear baseline, and the exact kernel', () => {
    const run = spawnSync(
      tsx,
      ['examples/random-features-mnist.ts', '--features', '300,1000', '--train', '1000', '--test', '500'],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.stderr.replace(/^opu-native: using the TypeScript kernels.*\n/m, '')).toBe('');
    expect(run.status).toBe(0);
    const error = (pattern: RegExp) => Number(pattern.exec(run.stdout)?.[1]);
    const optical = error(/random features +1000: test error +([\d.]+)%/);
    const linear = error(/linear ridge on pixels: +test error +([\d.]+)%/);
    const exact = error(/exact optical kernel, 1000 images: test error +([\d.]+)%/);
    // Measured: 1000 features 12.0%, linear 24.2%, exact kernel (1 + cos²) 7.8%.
    expect(optical).toBeLessThan(15);
    expect(linear).toBeGreaterThan(optical + 6);
    expect(exact).toBeLessThan(optical);
    const bad = spawnSync(tsx, ['examples/random-features-mnist.ts', '--train', 'many'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--train many is not a whole number/);
  });
});
