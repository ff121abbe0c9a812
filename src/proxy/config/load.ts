import { readFile } from 'node:fs/promises';
import { TskubeError } from '../../common/errors.js';
import { loadYaml } from '../../common/yaml.js';
import { type DecodedProxyConfig, decodeProxyConfiguration } from './decode.js';
import { isPlainObject, show } from '../../common/field-readers.js';
import { proxyConfigApiVersion, proxyConfigKind } from './types.js';

export type ReadTextFile = (path: string) => Promise<string>;

const readText: ReadTextFile = (path) => readFile(path, 'utf8');

/**
 * Parses a KubeProxyConfiguration document (YAML or JSON): checks apiVersion and kind and
 * decodes it. Errors name the field and the value, with `source` (the file) in front.
 */
export async function parseProxyConfig(text: string, source: string): Promise<DecodedProxyConfig> {
  const { parse } = await loadYaml();
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    throw new TskubeError('invalid-argument', `${source}: not valid YAML or JSON: ${TskubeError.from(err).detail.split('\n')[0]}`, { cause: err });
  }
  try {
    if (!isPlainObject(doc)) throw new TskubeError('invalid-argument', `want a ${proxyConfigKind} object, got ${show(doc)}`);
    if (doc['apiVersion'] !== proxyConfigApiVersion) {
      throw new TskubeError('invalid-argument', `apiVersion: invalid value ${show(doc['apiVersion'])}: want "${proxyConfigApiVersion}"`);
    }
    if (doc['kind'] !== proxyConfigKind) throw new TskubeError('invalid-argument', `kind: invalid value ${show(doc['kind'])}: want "${proxyConfigKind}"`);
    return decodeProxyConfiguration(doc);
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(source);
  }
}

/** Reads and parses the KubeProxyConfiguration at `path` (--config). */
export async function loadProxyConfig(path: string, read: ReadTextFile = readText): Promise<DecodedProxyConfig> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    const e = TskubeError.from(err, 'invalid-argument');
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'invalid-argument';
    throw new TskubeError(code, `--config: cannot read ${path}: ${e.detail}`, { cause: err });
  }
  return parseProxyConfig(text, path);
}
