import { describe, expect, it } from 'vitest';
import { CniError } from '../../src/cni/cni-error.js';
import type { PluginRun } from '../../src/cni/plugin-exec.js';
import { readAddResult, successOutput } from '../../src/cni/plugin-output.js';

const ctx = { command: 'ADD', plugin: 'bridge', binary: '/usr/lib/cni/bridge', network: 'net', source: '/etc/cni/net.d/10-net.conflist plugins[0]' };
const run = (over: Partial<PluginRun>): PluginRun => ({
  exitCode: 0,
  signal: null,
  stdout: Buffer.alloc(0),
  stderr: Buffer.alloc(0),
  timedOut: false,
  aborted: false,
  overflowed: false,
  ...over,
});
const caught = (fn: () => unknown): CniError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected a CniError');
};
const prefix = 'ADD plugin "bridge" (/usr/lib/cni/bridge) of network "net" from /etc/cni/net.d/10-net.conflist plugins[0]';

describe('what a plugin run means', () => {
  it('gives stdout of a run that exited 0', () => {
    expect(successOutput(run({ stdout: Buffer.from('{"cniVersion":"1.0.0"}') }), ctx, 1000)).toBe('{"cniVersion":"1.0.0"}');
  });

  it('turns the spec error object into a typed error naming plugin, binary and file', () => {
    const stdout = JSON.stringify({
      cniVersion: '1.1.0',
      code: 7,
      msg: 'Invalid Configuration',
      details: 'Network 192.168.0.0/31 too small to allocate from.',
    });
    const e = caught(() => successOutput(run({ exitCode: 1, stdout: Buffer.from(stdout) }), ctx, 1000));
    expect(e.code).toBe('invalid-argument');
    expect(e.cni).toEqual({ cniVersion: '1.1.0', code: 7, msg: 'Invalid Configuration', details: 'Network 192.168.0.0/31 too small to allocate from.' });
    expect(e.message).toBe(
      `invalid-argument: ${prefix}: CNI error 7 (invalid network config): Invalid Configuration; Network 192.168.0.0/31 too small to allocate from.`,
    );
    expect(caught(() => successOutput(run({ exitCode: 1, stdout: Buffer.from('{"code":11,"msg":"busy"}') }), ctx, 1000)).code).toBe('unavailable');
    expect(caught(() => successOutput(run({ exitCode: 1, stdout: Buffer.from('{"code":142,"msg":"mine"}') }), ctx, 1000)).code).toBe('unknown');
  });

  it('says what a failing plugin printed when it is not an error object, with its stderr', () => {
    const e = caught(() =>
      successOutput(run({ exitCode: 2, stdout: Buffer.from('panic: oops\n'), stderr: Buffer.from('goroutine 1\nmain.main()\n') }), ctx, 1000),
    );
    expect(e.message).toBe(
      `internal: ${prefix}: exited with status 2 and printed something that is not a CNI error object: "panic: oops"; stderr: goroutine 1 | main.main()`,
    );
    expect(caught(() => successOutput(run({ exitCode: 1 }), ctx, 1000)).problem).toBe('exited with status 1 and no message');
  });

  it('says when it was killed for the timeout, by a signal, or could not start', () => {
    expect(caught(() => successOutput(run({ exitCode: null, signal: 'SIGKILL', timedOut: true }), ctx, 250)).message).toBe(
      `deadline-exceeded: ${prefix}: no answer within 250 ms; killed it and what it started`,
    );
    expect(caught(() => successOutput(run({ exitCode: null, signal: 'SIGSEGV' }), ctx, 250)).problem).toBe('killed by SIGSEGV');
    const enoent = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
    expect(caught(() => successOutput(run({ exitCode: null, spawnError: enoent }), ctx, 250)).code).toBe('not-found');
  });

  it('refuses garbage where a result should be', () => {
    expect(caught(() => readAddResult('hello world', ctx, '1.0.0')).problem).toBe('printed something that is not a CNI result: "hello world"');
    expect(caught(() => readAddResult('', ctx, '1.0.0')).problem).toBe('succeeded but printed no result');
    expect(caught(() => readAddResult('{"cniVersion":"1.0.0","ips":[{"address":"nope"}]}', ctx, '1.0.0')).problem).toBe(
      'printed an invalid result: result: ips[0].address: "nope" is not an address in CIDR notation',
    );
    expect(readAddResult('{"ips":[{"address":"10.0.0.2/24"}]}', ctx, '1.0.0').ips).toEqual([{ address: '10.0.0.2/24' }]);
  });
});
