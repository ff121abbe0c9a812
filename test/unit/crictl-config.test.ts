import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseOptionValue, parseSetFlags } from '../../src/cli/crictl/cmd/config.js';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { memoryIo } from '../../src/cli/io.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tskube-crictl-config-'));
  file = join(dir, 'crictl.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function config(args: string[]) {
  const { io, stdout, stderr } = memoryIo({ env: { CRI_CONFIG_FILE: file } });
  const code = await crictl(['config', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

describe('crictl config', () => {
  it('sets options with their types and reads them back', async () => {
    writeFileSync(file, '');
    expect((await config(['--set', 'runtime-endpoint=unix:///run/containerd/containerd.sock', '--set', 'timeout=10,debug=true'])).code).toBe(0);
    expect(parseYaml(readFileSync(file, 'utf8'))).toEqual({ 'runtime-endpoint': 'unix:///run/containerd/containerd.sock', timeout: 10, debug: true });
    expect((await config(['--get', 'timeout'])).stdout).toBe('10\n');
    expect((await config(['--get', 'debug'])).stdout).toBe('true\n');
    expect((await config(['--get', 'image-endpoint'])).stdout).toBe('\n');
  });

  it('lists every option as a KEY VALUE table', async () => {
    writeFileSync(file, 'debug: true\n');
    const { stdout } = await config(['--list']);
    const rows = stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/));
    expect(rows[0]).toEqual(['KEY', 'VALUE']);
    expect(rows.slice(1)).toEqual([
      ['runtime-endpoint'],
      ['image-endpoint'],
      ['timeout', '0'],
      ['debug', 'true'],
      ['pull-image-on-create', 'false'],
      ['disable-pull-on-run', 'false'],
    ]);
  });

  it('accepts the older `config KEY VALUE` and keeps comments and other keys', async () => {
    writeFileSync(file, '# managed by hand\nruntime-endpoint: unix:///old.sock\nsomething-else: 1\n');
    expect((await config(['runtime-endpoint', 'unix:///new.sock'])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# managed by hand');
    expect(parseYaml(text)).toEqual({ 'runtime-endpoint': 'unix:///new.sock', 'something-else': 1 });
  });

  it('names the bad key or value and leaves the file untouched', async () => {
    writeFileSync(file, 'debug: false\n');
    const bad = await config(['--set', 'debug=true,timeout=soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('tskube crictl config: invalid-argument: timeout: invalid value "soon" (want a whole number of seconds)\n');
    expect(readFileSync(file, 'utf8')).toBe('debug: false\n');
    expect((await config(['--get', 'colour'])).stderr).toMatch(/no configuration option named "colour" \(want one of: runtime-endpoint, /);
    expect((await config(['--set', 'debug'])).stderr).toMatch(/--set: incorrectly specified option "debug" \(want KEY=VALUE\)/);
  });

  it('parses values as Go does', () => {
    expect(parseOptionValue('debug', 'T')).toBe(true);
    expect(parseOptionValue('pull-image-on-create', '0')).toBe(false);
    expect(() => parseOptionValue('debug', 'yes')).toThrow(/debug: invalid value "yes"/);
    expect(parseOptionValue('timeout', '+5')).toBe(5);
    expect(parseSetFlags(['a=1,b=x=y', 'c='])).toEqual([
      ['a', '1'],
      ['b', 'x=y'],
      ['c', ''],
    ]);
  });

  it('prints usage with no arguments', async () => {
    writeFileSync(file, '');
    const { code, stdout } = await config([]);
    expect(code).toBe(0);
    expect(stdout).toContain('pull-image-on-create');
  });
});
