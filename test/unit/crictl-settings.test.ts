import { describe, expect, it } from 'vitest';
import { parseDuration, parseFlags } from '../../src/cli/args.js';
import { parseGlobalFlags } from '../../src/cli/crictl/crictl.js';
import { defaultRuntimeEndpoints, resolveSettings, validateConfigFile } from '../../src/cli/crictl/settings.js';

const file = (values: object) => ({ path: '/etc/crictl.yaml', values });

describe('resolveSettings precedence', () => {
  const kubelet = { path: '/var/lib/kubelet/config.yaml', endpoint: 'unix:///kubelet.sock' };

  it('flag beats environment beats config file beats kubelet config', () => {
    const all = {
      flags: { runtimeEndpoint: 'unix:///flag.sock' },
      env: { CONTAINER_RUNTIME_ENDPOINT: 'unix:///env.sock' },
      configFile: file({ 'runtime-endpoint': 'unix:///file.sock' }),
      kubelet,
    };
    expect(resolveSettings(all).runtimeEndpoints).toEqual(['unix:///flag.sock']);
    expect(resolveSettings({ ...all, flags: {} }).runtimeEndpoints).toEqual(['unix:///env.sock']);
    expect(resolveSettings({ ...all, flags: {}, env: {} }).runtimeEndpoints).toEqual(['unix:///file.sock']);
    const fromKubelet = resolveSettings({ flags: {}, env: {}, kubelet });
    expect(fromKubelet.runtimeEndpoints).toEqual(['unix:///kubelet.sock']);
    expect(fromKubelet.runtimeEndpointSource).toBe('containerRuntimeEndpoint in /var/lib/kubelet/config.yaml');
  });

  it('falls back to the default sockets, in crictl order', () => {
    const s = resolveSettings({ flags: {}, env: {} });
    expect(s.runtimeEndpoints).toEqual(defaultRuntimeEndpoints);
    expect(s.runtimeEndpoints[0]).toBe('unix:///run/containerd/containerd.sock');
    expect(s.timeoutMs).toBe(2000);
    expect(s.imageEndpoint).toBeUndefined();
  });

  it('takes timeout in seconds from the file and as a duration from the flag', () => {
    expect(resolveSettings({ flags: {}, env: {}, configFile: file({ timeout: 10 }) }).timeoutMs).toBe(10_000);
    expect(resolveSettings({ flags: { timeout: '500ms' }, env: {}, configFile: file({ timeout: 10 }) }).timeoutMs).toBe(500);
  });

  it('image endpoint from IMAGE_SERVICE_ENDPOINT or the file', () => {
    expect(resolveSettings({ flags: {}, env: { IMAGE_SERVICE_ENDPOINT: 'unix:///img.sock' } }).imageEndpoint).toBe('unix:///img.sock');
    expect(resolveSettings({ flags: {}, env: {}, configFile: file({ 'image-endpoint': 'unix:///f.sock', debug: true }) })).toMatchObject({
      imageEndpoint: 'unix:///f.sock',
      debug: true,
    });
  });
});

describe('validateConfigFile', () => {
  it('keeps known keys and ignores unknown ones', () => {
    expect(validateConfigFile('/c.yaml', { 'runtime-endpoint': 'unix:///x', timeout: 3, other: 1 })).toEqual({ 'runtime-endpoint': 'unix:///x', timeout: 3 });
    expect(validateConfigFile('/c.yaml', null)).toEqual({});
  });

  it('names the key and the value that are wrong', () => {
    expect(() => validateConfigFile('/c.yaml', { timeout: '2s' })).toThrow('/c.yaml: timeout: want a number, got "2s"');
    expect(() => validateConfigFile('/c.yaml', ['a'])).toThrow('/c.yaml: want a mapping of options');
  });
});

describe('global flags', () => {
  it('splits global flags from the subcommand', () => {
    expect(parseGlobalFlags(['-r', 'unix:///a.sock', '--timeout=5s', '-D', 'ps', '-a'])).toEqual({
      flags: { runtimeEndpoint: 'unix:///a.sock', timeout: '5s', debug: true },
      help: false,
      version: false,
      rest: ['ps', '-a'],
    });
  });

  it('rejects unknown and incomplete flags by name', () => {
    expect(() => parseGlobalFlags(['--bogus', 'ps'])).toThrow('flag provided but not defined: --bogus');
    expect(() => parseGlobalFlags(['--runtime-endpoint'])).toThrow('flag needs an argument: --runtime-endpoint');
  });
});

describe('subcommand flags and durations', () => {
  it('combines short booleans and reports unknown flags like crictl', () => {
    const { values, positionals } = parseFlags(['-aq', 'x'], { all: { type: 'boolean', short: 'a' }, quiet: { type: 'boolean', short: 'q' } });
    expect(values).toEqual({ all: true, quiet: true });
    expect(positionals).toEqual(['x']);
    expect(() => parseFlags(['-z'], {})).toThrow('flag provided but not defined: -z');
  });

  it('parses Go durations', () => {
    expect(parseDuration('2s', 't')).toBe(2000);
    expect(parseDuration('1m30s', 't')).toBe(90_000);
    expect(parseDuration('250ms', 't')).toBe(250);
    expect(parseDuration('3', 't')).toBe(3000);
    expect(() => parseDuration('2 seconds', '--timeout')).toThrow('--timeout: invalid duration "2 seconds"');
  });
});
