import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run lint` as a test, so a formatting or lint error counts in test/run's tally
// like any other failure, with Biome's own report as the failure message.
describe('the source tree', () => {
  it('passes biome check (formatting, recommended lint, the project rules in lint/)', () => {
    const root = join(import.meta.dirname, '../..');
    const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');
    const run = spawnSync(process.execPath, [biome, 'check', '--colors=off', '--max-diagnostics=30', '.'], { cwd: root, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  }, 60_000);
});
