import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { errorMessage, TskubeError } from '../../common/errors.js';
import { decodeKubeletConfiguration, type DecodedKubeletConfig } from './decode.js';
import { isPlainObject, show } from '../../common/field-readers.js';
import { kubeletConfigApiVersion, kubeletConfigKind, type KubeletConfiguration } from './types.js';
import { validateKubeletConfiguration } from './validate.js';

export type ReadTextFile = (path: string) => Promise<string>;

const readText: ReadTextFile = (path) => readFile(path, 'utf8');

/**
 * Parses a KubeletConfiguration document (YAML or JSON): checks apiVersion and kind,
 * decodes and validates it, and resolves relative paths against `baseDir` as upstream
 * does. Errors name the field and the value; `source` names the file in them.
 */
export function parseKubeletConfig(text: string, source: string, baseDir?: string): DecodedKubeletConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    throw new TskubeError('invalid-argument', `${source}: not valid YAML or JSON: ${errorMessage(err).split('\n')[0]}`, { cause: err });
  }
  try {
    if (!isPlainObject(doc)) throw new TskubeError('invalid-argument', `want a ${kubeletConfigKind} object, got ${show(doc)}`);
    if (doc['apiVersion'] !== kubeletConfigApiVersion) {
      throw new TskubeError('invalid-argument', `apiVersion: invalid value ${show(doc['apiVersion'])}: want "${kubeletConfigApiVersion}"`);
    }
    if (doc['kind'] !== kubeletConfigKind) throw new TskubeError('invalid-argument', `kind: invalid value ${show(doc['kind'])}: want "${kubeletConfigKind}"`);
    const decoded = decodeKubeletConfiguration(doc);
    if (baseDir !== undefined) resolveRelativePaths(decoded.config, baseDir);
    validateKubeletConfiguration(decoded.config);
    return decoded;
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(source);
  }
}

/** Reads and parses the KubeletConfiguration at `path` (--config). */
export async function loadKubeletConfig(path: string, read: ReadTextFile = readText): Promise<DecodedKubeletConfig> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'invalid-argument';
    throw new TskubeError(code, `--config: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  return parseKubeletConfig(text, path, dirname(resolve(path)));
}

// Upstream's KubeletConfigurationPathRefs: paths in the file are relative to the file.
function resolveRelativePaths(c: KubeletConfiguration, baseDir: string): void {
  const abs = (p: string) => (p === '' || isAbsolute(p) ? p : resolve(baseDir, p));
  c.staticPodPath = abs(c.staticPodPath);
  c.tlsCertFile = abs(c.tlsCertFile);
  c.tlsPrivateKeyFile = abs(c.tlsPrivateKeyFile);
  c.resolvConf = abs(c.resolvConf);
  c.podLogsDir = abs(c.podLogsDir);
  c.authentication.x509.clientCAFile = abs(c.authentication.x509.clientCAFile);
}
