import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invalidPayloadPath, writeAtomically } from '../../src/kubelet/volumes/atomic-writer.js';
import type { Payload } from '../../src/kubelet/volumes/payload.js';
import { ServiceAccountTokens } from '../../src/kubelet/volumes/service-account-tokens.js';

const payload = (files: Record<string, string>, mode = 0o644): Payload => new Map(Object.entries(files).map(([p, c]) => [p, { data: Buffer.from(c), mode }]));
const visible = (dir: string) =>
  readdirSync(dir)
    .filter((n) => !n.startsWith('..'))
    .sort();
const versions = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('..') && n !== '..data');

describe('the atomic writer', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'tskube-writer-')), 'vol');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('lays out a version directory, ..data and one link per top-level name, as upstream', async () => {
    expect(await writeAtomically(dir, payload({ 'app.conf': 'a', 'nested/deep/key': 'k' }), { now: new Date('2026-02-03T04:05:06Z') })).toBe(true);
    const [version] = versions(dir);
    expect(version).toMatch(/^\.\.2026_02_03_04_05_06\.[0-9a-f]{10}$/);
    expect(readlinkSync(join(dir, '..data'))).toBe(version);
    expect(readlinkSync(join(dir, 'app.conf'))).toBe('..data/app.conf');
    expect(readlinkSync(join(dir, 'nested'))).toBe('..data/nested');
    expect(readFileSync(join(dir, 'nested/deep/key'), 'utf8')).toBe('k');
    expect(lstatSync(join(dir, version ?? '')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(dir, '..data/app.conf')).mode & 0o777).toBe(0o644);
  });

  it('swaps in a new version in one rename, drops keys that went and the old version, and writes nothing when unchanged', async () => {
    await writeAtomically(dir, payload({ a: '1', b: '2' }));
    const [first] = versions(dir);
    expect(await writeAtomically(dir, payload({ a: '1', b: '2' }))).toBe(false);
    expect(versions(dir)).toEqual([first]);
    expect(await writeAtomically(dir, payload({ a: '1', c: '3' }))).toBe(true);
    const [second] = versions(dir);
    expect(second).not.toBe(first);
    expect(visible(dir)).toEqual(['a', 'c']);
    expect(readFileSync(join(dir, 'c'), 'utf8')).toBe('3');
    // A reader holding the old link target would have seen the old files whole; now they are gone.
    expect(existsSync(join(dir, first ?? ''))).toBe(false);
  });

  it('after a writer killed part way, readers still see the old version whole, and the next write sweeps the leftovers', async () => {
    await writeAtomically(dir, payload({ a: 'old' }));
    // What a kill leaves: a half-written version directory and a temporary link that never replaced ..data.
    mkdirSync(join(dir, '..2026_01_01_00_00_00.dead'));
    writeFileSync(join(dir, '..2026_01_01_00_00_00.dead', 'a'), 'ne');
    symlinkSync('..2026_01_01_00_00_00.dead', join(dir, '...data.tmp-1234abcd'));
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('old');
    await writeAtomically(dir, payload({ a: 'new' }));
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('new');
    expect(versions(dir)).toHaveLength(1);
  });

  it('refuses paths that would leave the directory, as upstream validatePath', async () => {
    expect(invalidPayloadPath('../etc/passwd')).toBe("invalid path: must not contain '..': ../etc/passwd");
    expect(invalidPayloadPath('/etc/passwd')).toBe('invalid path: must be relative path: /etc/passwd');
    expect(invalidPayloadPath('..data')).toBe("invalid path: must not start with '..': ..data");
    expect(invalidPayloadPath('a/../../b')).toBe("invalid path: must not contain '..': a/../../b");
    expect(invalidPayloadPath('ok/file')).toBeUndefined();
    await expect(writeAtomically(dir, payload({ '../escape': 'x' }))).rejects.toThrow("must not contain '..'");
    expect(existsSync(join(dir, '..', 'escape'))).toBe(false);
  });
});

describe('service-account tokens', () => {
  const pod = { metadata: { name: 'web', namespace: 'shop', uid: 'u-1' }, spec: { serviceAccountName: 'api', containers: [] } };
  const source = { path: 'token', expirationSeconds: 600, audience: 'vault' };

  it('asks once, bound to the pod with the audience, hands the token out until 80 % of its life, then renews', async () => {
    let now = 1_000_000;
    const asked: unknown[] = [];
    const tokens = new ServiceAccountTokens({
      now: () => now,
      random: () => 0,
      request: async (ns, sa, spec) => {
        asked.push({ ns, sa, spec });
        return { token: `t${asked.length}`, expiresAt: now + 600_000, expirationSeconds: 600 };
      },
    });
    expect(await tokens.token(pod, source)).toEqual({ ok: true, token: 't1' });
    expect(asked).toEqual([
      {
        ns: 'shop',
        sa: 'api',
        spec: { audiences: ['vault'], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u-1' } },
      },
    ]);
    now += 479_000;
    expect(await tokens.token(pod, source)).toEqual({ ok: true, token: 't1' });
    now += 2_000;
    expect(await tokens.token(pod, source)).toEqual({ ok: true, token: 't2' });
    expect(tokens.requests).toBe(2);
  });

  it('keeps a valid token when a renewal fails, and says so once it has expired', async () => {
    let now = 0;
    let fail = false;
    const tokens = new ServiceAccountTokens({
      now: () => now,
      random: () => 0,
      request: async () => {
        if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
        return { token: 'good', expiresAt: now + 600_000, expirationSeconds: 600 };
      },
    });
    await tokens.token(pod, source);
    fail = true;
    now = 500_000;
    expect(await tokens.token(pod, source)).toEqual({ ok: true, token: 'good' });
    now = 601_000;
    expect(await tokens.token(pod, source)).toEqual({
      ok: false,
      message: 'token of service account shop/api expired and refresh failed: connect ECONNREFUSED 127.0.0.1:6443',
    });
    tokens.forget('u-1');
    expect(await tokens.token(pod, source)).toEqual({ ok: false, message: 'failed to fetch token: connect ECONNREFUSED 127.0.0.1:6443' });
    expect(await new ServiceAccountTokens({}).token(pod, source)).toMatchObject({ ok: false, message: expect.stringMatching(/standalone/) });
  });
});
