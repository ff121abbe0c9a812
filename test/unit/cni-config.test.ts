import { describe, expect, it } from 'vitest';
import type { ConfigDirScan } from '../../src/cni/config/config-dir.js';
import { formatOfFile, parseNetworkConfig, parsePluginFile, syntaxErrorOffset, withSiblingPlugins } from '../../src/cni/config/parse-network-config.js';
import { selectNetwork } from '../../src/cni/config/select-network.js';
import { TskubeError } from '../../src/common/errors.js';

const file = '/etc/cni/net.d/10-net.conflist';
const list = (doc: unknown) => parseNetworkConfig(JSON.stringify(doc), file, 'conflist');
const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TskubeError);
    return (err as TskubeError).message;
  }
  throw new Error('expected an error');
};

describe('parseNetworkConfig', () => {
  it('reads a list: plugins in order, capabilities, every field kept for the plugin, the file bytes for the cache', () => {
    const text = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'dbnet',
      disableCheck: 'TRUE',
      plugins: [
        { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.1.0.0/16' } },
        { type: 'portmap', capabilities: { portMappings: true, mac: false } },
      ],
    });
    const c = parseNetworkConfig(text, file, 'conflist');
    expect(c.name).toBe('dbnet');
    expect(c.cniVersion).toBe('1.0.0');
    expect(c.disableCheck).toBe(true);
    expect(c.disableGC).toBe(false);
    expect(c.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(c.plugins[0]?.raw['bridge']).toBe('cni0');
    expect(c.plugins[1]?.capabilities).toEqual({ portMappings: true, mac: false });
    expect(c.plugins[1]?.source).toBe(`${file} plugins[1]`);
    expect(c.bytes.toString()).toBe(text);
  });

  it('picks the highest version of cniVersion and cniVersions this library implements, skipping newer ones', () => {
    const c = list({ cniVersion: '0.4.0', cniVersions: ['1.0.0', '1.1.0', '2.0.0'], name: 'n', plugins: [{ type: 'bridge' }] });
    expect(c.cniVersion).toBe('1.1.0');
    expect(c.offeredVersions).toEqual(['1.1.0', '1.0.0', '0.4.0']);
    expect(list({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'x' }] }).offeredVersions).toEqual(['1.0.0']);
    expect(list({ name: 'n', plugins: [{ type: 'x' }] }).cniVersion).toBe('0.1.0');
  });

  it('turns a single-plugin .conf into a list of one, as libcni re-marshals it', () => {
    const c = parseNetworkConfig(JSON.stringify({ cniVersion: '0.3.1', name: 'old', type: 'bridge', bridge: 'b0' }), '/d/10-old.conf', 'conf');
    expect(c.plugins).toHaveLength(1);
    expect(c.plugins[0]?.raw['bridge']).toBe('b0');
    expect(JSON.parse(c.bytes.toString())).toEqual({
      cniVersion: '0.3.1',
      name: 'old',
      plugins: [{ cniVersion: '0.3.1', name: 'old', type: 'bridge', bridge: 'b0' }],
    });
  });

  it('names the file, line and column of a JSON syntax error', () => {
    const text = '{\n  "name": "n",\n  "plugins": [ { "type": "bridge" }, ]\n}';
    expect(problem(() => parseNetworkConfig(text, file, 'conflist'))).toMatch(
      /^invalid-argument: \/etc\/cni\/net.d\/10-net.conflist: not valid JSON at line 3 column \d+/,
    );
  });

  it.each([
    [{ plugins: [{ type: 'bridge' }] }, 'name: missing'],
    [{ name: 'bad name', plugins: [{ type: 'bridge' }] }, 'name: "bad name" has characters'],
    [{ name: 'n', plugins: [] }, 'plugins: empty'],
    [{ name: 'n', plugins: {} }, 'plugins: want a list of plugin objects, found an object'],
    [{ name: 'n', plugins: [{ type: 'bridge' }, { bridge: 'x' }] }, 'plugins[1].type: missing'],
    [{ name: 'n', plugins: [{ type: '../bin/sh' }] }, 'plugins[0].type: "../bin/sh" is not a binary name'],
    [
      { name: 'n', plugins: [{ type: 'portmap', capabilities: { portMappings: 'yes' } }] },
      'plugins[0].capabilities.portMappings: want true or false, found "yes"',
    ],
    [{ name: 'n', plugins: [{ type: 'bridge', ipam: { type: 7 } }] }, 'plugins[0].ipam.type: want the name of an IPAM plugin binary'],
    [{ name: 'n', cniVersion: 1, plugins: [{ type: 'bridge' }] }, 'cniVersion: want a string'],
    [{ name: 'n', cniVersion: '0.3.2', plugins: [{ type: 'bridge' }] }, 'cniVersion: "0.3.2" is not a released CNI version'],
    [{ name: 'n', cniVersion: '2.0.0', plugins: [{ type: 'bridge' }] }, 'cniVersion: "2.0.0" is newer than this library implements (1.1.0)'],
    [{ name: 'n', cniVersions: ['1.0.0', 'x'], plugins: [{ type: 'bridge' }] }, 'cniVersions[1]: "x" is not a version'],
    [{ name: 'n', disableGC: 'maybe', plugins: [{ type: 'bridge' }] }, 'disableGC: want true or false, found "maybe"'],
    [{ name: 'n', loadOnlyInlinedPlugins: true }, 'plugins: missing, and loadOnlyInlinedPlugins is true'],
  ])('refuses %j naming the field', (doc, expected) => {
    expect(problem(() => list(doc))).toContain(`${file}: ${expected}`);
  });

  it('says a plugin list saved as .conf needs the .conflist name', () => {
    expect(problem(() => parseNetworkConfig(JSON.stringify({ name: 'n', plugins: [{ type: 'bridge' }] }), '/d/x.conf', 'conf'))).toContain(
      '/d/x.conf: this is a plugin list',
    );
  });

  it('adds the plugins kept in <dir>/<name>/*.conf unless loadOnlyInlinedPlugins, and insists on one plugin', () => {
    const sibling = parsePluginFile(JSON.stringify({ type: 'tuning' }), '/d/n/10-tuning.conf');
    const inline = list({ name: 'n', plugins: [{ type: 'bridge' }] });
    expect(withSiblingPlugins(inline, [sibling]).plugins.map((p) => p.type)).toEqual(['bridge', 'tuning']);
    const only = list({ name: 'n', loadOnlyInlinedPlugins: true, plugins: [{ type: 'bridge' }] });
    expect(withSiblingPlugins(only, [sibling]).plugins.map((p) => p.type)).toEqual(['bridge']);
    expect(problem(() => withSiblingPlugins(list({ name: 'n' }), []))).toContain('plugins: none, neither in the file nor as .conf files in a folder named "n"');
  });

  it('finds where JSON goes wrong when V8 does not say', () => {
    expect(syntaxErrorOffset('{"a": [1, 2,]}')).toBe(12);
    expect(syntaxErrorOffset('{"a": tru}')).toBe(6);
    expect(syntaxErrorOffset('{"a": "x}')).toBe(9);
    expect(syntaxErrorOffset('{"a": 1} x')).toBe(9);
    expect(syntaxErrorOffset('{"a": 01}')).toBe(7);
    for (const ok of ['{}', '[]', '{"a": [1, -2.5e3, "\\u00e9", true, false, null, {"b": {}}]}', ' "s" ']) expect(syntaxErrorOffset(ok)).toBeUndefined();
  });

  it('knows the formats by extension', () => {
    expect([formatOfFile('a.conflist'), formatOfFile('a.conf'), formatOfFile('a.json'), formatOfFile('a.yaml')]).toEqual([
      'conflist',
      'conf',
      'conf',
      undefined,
    ]);
  });
});

describe('selectNetwork', () => {
  const good = (name: string, f: string, format: 'conflist' | 'conf' = 'conflist') => ({
    file: f,
    format,
    config: parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type: 'bridge' }] }), f, 'conflist'),
  });
  const broken = (f: string) => ({ file: f, format: 'conflist' as const, error: new TskubeError('invalid-argument', `${f}: name: missing`) });
  const scan = (files: ConfigDirScan['files']): ConfigDirScan => ({ dir: '/etc/cni/net.d', exists: true, files });

  it('takes the first valid file in lexical order and says which ones it passed over', () => {
    const s = selectNetwork(
      scan([broken('/etc/cni/net.d/00-a.conflist'), good('b', '/etc/cni/net.d/10-b.conflist'), good('c', '/etc/cni/net.d/20-c.conflist')]),
    );
    expect(s.network.name).toBe('b');
    expect(s.skipped).toEqual([{ file: '/etc/cni/net.d/00-a.conflist', reason: '/etc/cni/net.d/00-a.conflist: name: missing' }]);
  });

  it('passes over a file with an outside problem (its plugins missing)', () => {
    const s = selectNetwork(scan([good('b', '/x/10-b.conflist'), good('c', '/x/20-c.conflist')]), {
      problems: new Map([['/x/10-b.conflist', 'no plugin binary "bridge"']]),
    });
    expect(s.network.name).toBe('c');
  });

  it('by name: .conflist files before .conf, as libcni looks', () => {
    const s = selectNetwork(scan([good('n', '/x/00-n.conf', 'conf'), good('n', '/x/50-n.conflist')]), { name: 'n' });
    expect(s.network.file).toBe('/x/50-n.conflist');
  });

  it('fails with what it found when nothing fits', () => {
    expect(problem(() => selectNetwork({ dir: '/nope', exists: false, files: [] }))).toBe(
      'not-found: no CNI network config in /nope (the folder does not exist): want a .conflist, .conf or .json file',
    );
    expect(problem(() => selectNetwork(scan([good('a', '/x/a.conflist'), broken('/x/b.conflist')]), { name: 'z' }))).toBe(
      'not-found: no valid network "z" in /etc/cni/net.d (networks there: "a"); passed over: /x/b.conflist: name: missing',
    );
    expect(problem(() => selectNetwork(scan([broken('/x/b.conflist')])))).toBe(
      'not-found: no valid CNI network config in /etc/cni/net.d; passed over: /x/b.conflist: name: missing',
    );
  });
});
