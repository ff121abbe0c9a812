import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { TskubeError } from '../../src/common/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tskube-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const good = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true }
users:
- name: u
  user: { token: abc }
contexts:
- name: ctx
  context: { cluster: c, user: u }
current-context: ctx
`;

function errorOf(fn: () => unknown): TskubeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TskubeError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('loadKubeconfig', () => {
  it('loads a complete kubeconfig', () => {
    const kc = loadKubeconfig(write('good', good));
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(kc.getCurrentUser()?.token).toBe('abc');
  });

  it('names the file when it is missing', () => {
    const e = errorOf(() => loadKubeconfig(join(dir, 'nope')));
    expect(e.code).toBe('not-found');
    expect(e.message).toContain(join(dir, 'nope'));
  });

  it('names the file and the field that is wrong', () => {
    const cases: [string, string, RegExp][] = [
      ['empty', '', /the file is empty|current-context/],
      ['no-context', good.replace('current-context: ctx', ''), /current-context: required/],
      ['bad-context', good.replace('current-context: ctx', 'current-context: other'), /context "other" is not defined/],
      ['no-server', good.replace('server: "https://127.0.0.1:6443", ', ''), /server(: required| is missing)/],
      ['bad-server', good.replace('https://127.0.0.1:6443', 'not a url'), /is not a URL/],
      ['bad-user', good.replace('user: u }', 'user: ghost }'), /user "ghost" is not defined/],
      ['not-yaml', 'clusters: [', /kubeconfig/],
    ];
    for (const [name, text, re] of cases) {
      const file = write(name, text);
      const e = errorOf(() => loadKubeconfig(file));
      expect(e.code, name).toBe('invalid-argument');
      expect(e.message, name).toContain(file);
      expect(e.message, name).toMatch(re);
    }
  });
});
