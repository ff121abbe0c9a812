// Parses and validates one network configuration file, the way libcni reads it
// (NetworkConfFromBytes, ConfFromBytes, ConfListFromConf), with every problem named
// by file and field: "10-net.conflist: plugins[1].type: missing".
import { TskubeError } from '../../common/errors.js';
import type { NetworkConfig, PluginConfig } from '../network-config.js';
import { compareVersions, currentSpecVersion, highestVersion, isKnownVersion, parseVersion } from '../version.js';

/** `.conflist`: a list of plugins; `.conf` and `.json`: one plugin, the deprecated format. */
export type ConfigFormat = 'conflist' | 'conf';

export function formatOfFile(file: string): ConfigFormat | undefined {
  if (file.endsWith('.conflist')) return 'conflist';
  if (file.endsWith('.conf') || file.endsWith('.json')) return 'conf';
  return undefined;
}

/** Network names and container IDs: alphanumeric first, then alphanumerics, `_`, `.`, `-` (libcni's utils). */
export const cniNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

type Json = Record<string, unknown>;

class FileProblems {
  constructor(readonly file: string) {}
  fail(field: string, problem: string): never {
    throw new TskubeError('invalid-argument', `${this.file}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

/** JSON.parse with a message that gives the line and column instead of echoing the whole file. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const offset = syntaxErrorOffset(text);
    const where = offset === undefined ? '' : ` at ${lineAndColumn(text, offset)}`;
    // V8 sometimes quotes the input ("…" is not valid JSON); keep only the reason.
    const reason = message.replace(/,\s*(\.\.\.)?".*" is not valid JSON$/s, '').replace(/\s*in JSON at position \d+.*$/s, '');
    throw new TskubeError('invalid-argument', `${file}: not valid JSON${where}: ${reason}`);
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line} column ${column}`;
}

/**
 * Where JSON text first goes wrong (V8 does not always say): a small recursive
 * descent over the grammar that only finds the offset.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (!text.startsWith(word, i)) fail();
    i += word.length;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if ((text.charCodeAt(i) as number) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (word) {
      literal(word);
      return;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : undefined;
  }
}

/**
 * One network configuration file. A .conflist may leave out `plugins` and keep them in
 * `<dir>/<name>/*.conf` instead (libcni 1.2+); the loader adds those with
 * `withSiblingPlugins`, which also insists on at least one plugin.
 */
export function parseNetworkConfig(bytes: Buffer | string, file: string, format: ConfigFormat): NetworkConfig {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const problems: FileProblems = new FileProblems(file);
  const doc = parseJsonText(buffer.toString('utf8'), file);
  if (!isObject(doc)) problems.fail('', `want a JSON object, found ${describe(doc)}`);
  return format === 'conflist' ? parseList(doc, buffer, problems) : parseSinglePlugin(doc, problems);
}

function parseList(doc: Json, bytes: Buffer, problems: FileProblems): NetworkConfig {
  const name = readName(doc, problems);
  const { cniVersion, offeredVersions } = readVersions(doc, problems);
  const loadOnlyInlinedPlugins = readBool(doc, 'loadOnlyInlinedPlugins', problems);
  const plugins: PluginConfig[] = [];
  if (!('plugins' in doc)) {
    if (loadOnlyInlinedPlugins) problems.fail('plugins', 'missing, and loadOnlyInlinedPlugins is true, so there are no plugins to run');
  } else {
    const list = doc['plugins'];
    if (!Array.isArray(list)) problems.fail('plugins', `want a list of plugin objects, found ${describe(list)}`);
    if (list.length === 0) problems.fail('plugins', 'empty: a network needs at least one plugin');
    for (const [i, p] of list.entries()) plugins.push(parsePlugin(p, `plugins[${i}]`, `${problems.file} plugins[${i}]`, problems));
  }
  return {
    name,
    cniVersion,
    offeredVersions,
    disableCheck: readBool(doc, 'disableCheck', problems),
    disableGC: readBool(doc, 'disableGC', problems),
    loadOnlyInlinedPlugins,
    plugins,
    file: problems.file,
    bytes,
  };
}

/** A deprecated single-plugin file becomes a list of one, as libcni's ConfListFromConf does. */
function parseSinglePlugin(doc: Json, problems: FileProblems): NetworkConfig {
  // A list saved under .conf is the usual slip; say so rather than "type: missing".
  if (Array.isArray(doc['plugins']) && !('type' in doc)) problems.fail('', 'this is a plugin list: name the file .conflist');
  const name = readName(doc, problems);
  const { cniVersion, offeredVersions } = readVersions(doc, problems);
  const plugin = parsePlugin(doc, '', problems.file, problems);
  const rawVersion = typeof doc['cniVersion'] === 'string' ? doc['cniVersion'] : '';
  // libcni re-marshals the upconverted list through a Go map, so keys come out sorted.
  const bytes = Buffer.from(JSON.stringify({ cniVersion: rawVersion, name, plugins: [doc] }));
  return {
    name,
    cniVersion,
    offeredVersions,
    disableCheck: false,
    disableGC: false,
    loadOnlyInlinedPlugins: true,
    plugins: [plugin],
    file: problems.file,
    bytes,
  };
}

/** A plugin object from `<dir>/<network>/*.conf`, which belongs to the list of that name. */
export function parsePluginFile(bytes: Buffer | string, file: string): PluginConfig {
  const problems: FileProblems = new FileProblems(file);
  const doc = parseJsonText(bytes.toString(), file);
  return parsePlugin(doc, '', file, problems);
}

/** Appends the plugins kept beside a list, then insists there is at least one plugin. */
export function withSiblingPlugins(config: NetworkConfig, siblings: readonly PluginConfig[]): NetworkConfig {
  const plugins = config.loadOnlyInlinedPlugins ? config.plugins : [...config.plugins, ...siblings];
  if (plugins.length === 0) {
    throw new TskubeError(
      'invalid-argument',
      `${config.file}: plugins: none, neither in the file nor as .conf files in a folder named "${config.name}" beside it`,
    );
  }
  return { ...config, plugins };
}

function parsePlugin(value: unknown, field: string, source: string, problems: FileProblems): PluginConfig {
  const at = (f: string) => (field ? `${field}.${f}` : f);
  if (!isObject(value)) problems.fail(field, `want a plugin object, found ${describe(value)}`);
  const type = value['type'];
  if (type === undefined || type === '') problems.fail(at('type'), 'missing: every plugin names its binary in "type"');
  if (typeof type !== 'string') problems.fail(at('type'), `want a string, found ${describe(type)}`);
  if (type.includes('/') || type === '.' || type === '..') problems.fail(at('type'), `"${type}" is not a binary name (no "/" allowed)`);
  const capabilities: Record<string, boolean> = {};
  const caps = value['capabilities'];
  if (caps !== undefined) {
    if (!isObject(caps)) problems.fail(at('capabilities'), `want an object of booleans, found ${describe(caps)}`);
    for (const [k, v] of Object.entries(caps)) {
      if (typeof v !== 'boolean') problems.fail(at(`capabilities.${k}`), `want true or false, found ${describe(v)}`);
      capabilities[k] = v;
    }
  }
  const ipam = value['ipam'];
  if (ipam !== undefined) {
    if (!isObject(ipam)) problems.fail(at('ipam'), `want an object, found ${describe(ipam)}`);
    const ipamType = ipam['type'];
    if (ipamType !== undefined && (typeof ipamType !== 'string' || ipamType.includes('/'))) {
      problems.fail(at('ipam.type'), `want the name of an IPAM plugin binary, found ${describe(ipamType)}`);
    }
  }
  return { type, capabilities, raw: value, source };
}

function readName(doc: Json, problems: FileProblems): string {
  const name = doc['name'];
  if (name === undefined) problems.fail('name', 'missing: a network needs a name');
  if (typeof name !== 'string') problems.fail('name', `want a string, found ${describe(name)}`);
  if (!cniNamePattern.test(name))
    problems.fail('name', `"${name}" has characters a network name cannot have (letters, digits, "_", ".", "-"; a letter or digit first)`);
  return name;
}

function readVersions(doc: Json, problems: FileProblems): { cniVersion: string; offeredVersions: string[] } {
  const raw = doc['cniVersion'];
  if (raw !== undefined && typeof raw !== 'string') problems.fail('cniVersion', `want a string such as "1.0.0", found ${describe(raw)}`);
  const declared = raw ?? '';
  if (parseVersion(declared) === undefined) problems.fail('cniVersion', `"${declared}" is not a version`);
  const offered: string[] = [];
  const list = doc['cniVersions'];
  if (list !== undefined) {
    if (!Array.isArray(list)) problems.fail('cniVersions', `want a list of versions, found ${describe(list)}`);
    list.forEach((v, i) => {
      if (typeof v !== 'string' || parseVersion(v) === undefined) problems.fail(`cniVersions[${i}]`, `${describe(v)} is not a version`);
      // Versions newer than this library are skipped, as libcni does: the file may
      // be written for newer runtimes too.
      if (compareVersions(v, currentSpecVersion) <= 0) offered.push(v);
    });
  }
  const declaredUsable = compareVersions(declared, currentSpecVersion) <= 0;
  if (declaredUsable) offered.push(declared);
  const cniVersion = highestVersion(offered);
  if (cniVersion === undefined) {
    problems.fail('cniVersion', `"${declared}" is newer than this library implements (${currentSpecVersion}); list an older one in cniVersions`);
  }
  if (!isKnownVersion(cniVersion)) {
    problems.fail(cniVersion === declared ? 'cniVersion' : 'cniVersions', `"${cniVersion}" is not a released CNI version (0.1.0 ... ${currentSpecVersion})`);
  }
  const unique = [...new Set(offered.map((v) => (v === '' ? '0.1.0' : v)))].filter(isKnownVersion).sort((a, b) => compareVersions(b, a));
  return { cniVersion: cniVersion === '' ? '0.1.0' : cniVersion, offeredVersions: unique };
}

/** libcni's readBool: a JSON boolean, or the strings "true"/"false" in any case. */
function readBool(doc: Json, key: string, problems: FileProblems): boolean {
  const v = doc[key];
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return problems.fail(key, `want true or false, found ${describe(v)}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
