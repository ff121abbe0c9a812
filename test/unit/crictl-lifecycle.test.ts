import { describe, expect, it } from 'vitest';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { parseAnnotations } from '../../src/cli/crictl/cmd/pull.js';
import { authConfig, parseCreds } from '../../src/cli/crictl/lifecycle/auth.js';
import { imagesOf } from '../../src/cli/crictl/lifecycle/create-container.js';
import { eachId } from '../../src/cli/crictl/lifecycle/each-id.js';
import { deletedNames, planImageRemoval } from '../../src/cli/crictl/lifecycle/image-removal.js';
import { cancelTimeoutMs, choosePull, pullOptionsFromFlags } from '../../src/cli/crictl/lifecycle/pull-flags.js';
import { readPassword } from '../../src/cli/crictl/lifecycle/read-password.js';
import { linuxResourcesFromFlags } from '../../src/cli/crictl/lifecycle/resource-flags.js';
import { expectArgs } from '../../src/cli/crictl/lifecycle/usage.js';
import { memoryIo } from '../../src/cli/io.js';
import type { Image__Output } from '../../src/gen/cri/runtime/v1/Image.js';

const noPassword = () => Promise.reject(new Error('no password should be asked for'));

describe('registry credentials (--creds, --auth, --username)', () => {
  it('splits USERNAME[:PASSWORD] at the first colon', () => {
    expect(parseCreds('alice:s3:cret')).toEqual({ username: 'alice', password: 's3:cret' });
    expect(parseCreds('alice')).toEqual({ username: 'alice', password: '' });
  });

  it('rejects empty credentials and an empty username', () => {
    expect(() => parseCreds('')).toThrow('--creds: credentials are empty');
    expect(() => parseCreds(':pw')).toThrow('--creds: the username is empty');
  });

  it('builds the CRI AuthConfig from each flag', async () => {
    expect(await authConfig({}, noPassword)).toBeUndefined();
    expect(await authConfig({ creds: 'bob:pw' }, noPassword)).toEqual({ username: 'bob', password: 'pw' });
    const auth = Buffer.from('bob:pw').toString('base64');
    expect(await authConfig({ auth }, noPassword)).toEqual({ auth });
    expect(await authConfig({ username: 'carol' }, async () => 'typed')).toEqual({ username: 'carol', password: 'typed' });
  });

  it('refuses --creds with --auth, and --auth that is not base64', async () => {
    await expect(authConfig({ creds: 'a:b', auth: 'YTpi' }, noPassword)).rejects.toThrow('both --creds and --auth are given');
    await expect(authConfig({ auth: 'not base64!' }, noPassword)).rejects.toThrow(/--auth: "not base64!" is not base64/);
  });

  it('falls back to CRICTL_CREDS and CRICTL_PULL_TIMEOUT, flags first', async () => {
    const { io } = memoryIo({ env: { CRICTL_CREDS: 'env:pw', CRICTL_PULL_TIMEOUT: '90s' } });
    expect(await pullOptionsFromFlags({}, io)).toEqual({ auth: { username: 'env', password: 'pw' }, timeoutMs: 90_000 });
    expect(await pullOptionsFromFlags({ creds: 'flag:pw', 'pull-timeout': '2s' }, io)).toEqual({ auth: { username: 'flag', password: 'pw' }, timeoutMs: 2000 });
    await expect(pullOptionsFromFlags({ pt: 'soon' }, memoryIo().io)).rejects.toThrow('--pull-timeout: invalid duration "soon"');
  });

  it('reads the password for --username from the first line of stdin, after a prompt', async () => {
    const { io, stdout } = memoryIo({ stdin: 'hunter2\nrest\n' });
    expect(await readPassword(io)).toBe('hunter2');
    expect(stdout()).toBe('Enter Password:\n');
  });
});

describe('pull and timeout choices of create and run', () => {
  it('lets --with-pull / --no-pull override the config default, and not both', () => {
    expect(choosePull({}, true)).toBe(true);
    expect(choosePull({}, false)).toBe(false);
    expect(choosePull({ 'no-pull': true }, true)).toBe(false);
    expect(choosePull({ 'with-pull': true }, false)).toBe(true);
    expect(() => choosePull({ 'no-pull': true, 'with-pull': true }, true)).toThrow('--no-pull and --with-pull are both set');
  });

  it('reads --cancel-timeout as a duration; 0 means the default deadline', () => {
    expect(cancelTimeoutMs(undefined)).toBeUndefined();
    expect(cancelTimeoutMs('0s')).toBeUndefined();
    expect(cancelTimeoutMs('1m30s')).toBe(90_000);
    expect(() => cancelTimeoutMs('ten', '--timeout')).toThrow('--timeout: invalid duration "ten"');
  });

  it('pulls the image of each image volume too', () => {
    expect(imagesOf({ image: { image: 'a' }, mounts: [{ containerPath: '/x', image: { image: 'b' } }, { containerPath: '/y' }] })).toEqual(['a', 'b']);
  });

  it('parses --annotation key=value, keeping later = signs in the value', () => {
    expect(parseAnnotations([])).toBeUndefined();
    expect(parseAnnotations(['a=1', 'b=x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseAnnotations(['novalue'])).toThrow('--annotation: want key=value, got "novalue"');
  });
});

describe('update resource flags', () => {
  it('sends only the resources given, int64 as decimal strings', () => {
    expect(linuxResourcesFromFlags({ memory: '67108864', 'cpu-quota': '20000', 'cpuset-cpus': '0-1' })).toEqual({
      memoryLimitInBytes: '67108864',
      cpuQuota: '20000',
      cpusetCpus: '0-1',
    });
  });

  it('names the flag and value that is not a number, and wants at least one flag', () => {
    expect(() => linuxResourcesFromFlags({ memory: '64m' })).toThrow('--memory: invalid value "64m" (want a whole number)');
    expect(() => linuxResourcesFromFlags({})).toThrow(/nothing to update: give at least one of --cpu-period/);
  });
});

describe('rmi planning', () => {
  const image = (id: string, tags: string[], pinned = false): Image__Output =>
    ({ id, repoTags: tags, repoDigests: [`repo@${id}`], size: '1', uid: null, username: '', spec: null, pinned }) as Image__Output;
  const images = [image('sha256:a', ['a:1']), image('sha256:b', ['b:1', 'b:2']), image('sha256:pause', ['pause:3'], true), image('sha256:c', [])];

  it('removes only the named images without -a or --prune', () => {
    expect(planImageRemoval({ images, requested: ['sha256:b'], all: false, prune: false, inUse: new Set(['sha256:b']) }).map((i) => i.id)).toEqual([
      'sha256:b',
    ]);
  });

  it('-a removes every image, pinned or used', () => {
    expect(planImageRemoval({ images, requested: [], all: true, prune: false, inUse: new Set() }).map((i) => i.id)).toEqual([
      'sha256:a',
      'sha256:b',
      'sha256:pause',
      'sha256:c',
    ]);
  });

  it('--prune keeps pinned images and images a container uses, even when named', () => {
    const plan = planImageRemoval({ images, requested: ['sha256:a'], all: false, prune: true, inUse: new Set(['sha256:a', 'sha256:c']) });
    expect(plan.map((i) => i.id)).toEqual(['sha256:b']);
  });

  it('prints tags, or digests for an untagged image', () => {
    expect(deletedNames(image('sha256:b', ['b:1', 'b:2']))).toEqual(['b:1', 'b:2']);
    expect(deletedNames(image('sha256:c', []))).toEqual(['repo@sha256:c']);
  });
});

describe('working through several IDs', () => {
  it('goes on past a failure and then reports every failure', async () => {
    const done: string[] = [];
    const run = eachId(['a', 'bad1', 'b', 'bad2'], async (id) => {
      if (id.startsWith('bad')) throw new Error(`no ${id}`);
      done.push(id);
    });
    await expect(run).rejects.toThrow('2 of 4 failed: no bad1; no bad2');
    expect(done).toEqual(['a', 'b']);
  });

  it('throws a single failure as it is', async () => {
    await expect(eachId(['x'], async () => Promise.reject(new Error('boom')))).rejects.toThrow(/^unknown: boom$/);
  });

  it('checks the number of arguments and shows the usage', () => {
    expect(() => expectArgs(['a'], 2, 'run C P')).toThrow('want 2 arguments, got 1 (usage: run C P)');
    expect(() => expectArgs([], { min: 1 }, 'start ID...')).toThrow('want at least 1 argument, got 0');
    expect(() => expectArgs(['a', 'b'], { min: 1 }, 'x')).not.toThrow();
  });
});

describe('lifecycle subcommands reject bad flags before calling the runtime', () => {
  // An endpoint nobody listens on: a command that got as far as the runtime would fail differently.
  async function run(args: string[]) {
    const { io, stdout, stderr } = memoryIo({ env: { CONTAINER_RUNTIME_ENDPOINT: 'unix:///nonexistent/tskube-test.sock' } });
    const code = await crictl(['--config', '/dev/null', ...args], io);
    return { code, stdout: stdout(), stderr: stderr() };
  }

  const cases: [string[], string][] = [
    [['rm', '-x', 'abc'], 'tskube crictl rm: invalid-argument: flag provided but not defined: -x\n'],
    [['rm'], 'tskube crictl rm: invalid-argument: want at least one CONTAINER-ID, or --all (usage: tskube crictl rm [-f] [-k] CONTAINER-ID...)\n'],
    [['rm', '-af', 'abc'], 'tskube crictl rm: invalid-argument: cannot give CONTAINER-IDs with --all\n'],
    [['rmp', '-a', 'abc'], 'tskube crictl rmp: invalid-argument: cannot give POD-IDs with --all\n'],
    [['stop', '-t', 'soon', 'abc'], 'tskube crictl stop: invalid-argument: --timeout: invalid value "soon" (want a whole number)\n'],
    [
      ['create', '--no-pull', '--with-pull', 'p', 'c.json', 'p.json'],
      'tskube crictl create: invalid-argument: --no-pull and --with-pull are both set; use one\n',
    ],
    [
      ['create', 'p', 'c.json'],
      'tskube crictl create: invalid-argument: want 3 arguments, got 2 (usage: tskube crictl create [--no-pull|--with-pull] POD container-config.[json|yaml] pod-config.[json|yaml])\n',
    ],
    [['runp', '/nonexistent/pod.json'], 'tskube crictl runp: not-found: pod config file /nonexistent/pod.json not found\n'],
    [['run', '--no-pull', '/nonexistent/c.json', 'p.json'], 'tskube crictl run: not-found: container config file /nonexistent/c.json not found\n'],
    [['update', '--memory', 'lots', 'abc'], 'tskube crictl update: invalid-argument: --memory: invalid value "lots" (want a whole number)\n'],
    [['pull'], 'tskube crictl pull: invalid-argument: image name cannot be empty (usage: tskube crictl pull NAME[:TAG|@DIGEST])\n'],
    [['pull', '--creds', 'a:b', '--auth', 'YTpi', 'img'], 'tskube crictl pull: invalid-argument: both --creds and --auth are given; use one\n'],
    [['pull', '--annotation', 'oops', 'img'], 'tskube crictl pull: invalid-argument: --annotation: want key=value, got "oops"\n'],
    [['rmi'], 'tskube crictl rmi: invalid-argument: want at least one IMAGE, or --all or --prune (usage: tskube crictl rmi [-a] [--prune] IMAGE-ID...)\n'],
  ];
  for (const [args, stderr] of cases) {
    it(`crictl ${args.join(' ')}`, async () => {
      expect(await run(args)).toEqual({ code: 1, stdout: '', stderr });
    });
  }
});
