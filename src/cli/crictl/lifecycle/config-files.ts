import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errorMessage, TskubeError } from '../../../common/errors.js';
import type { ContainerConfig } from '../../../gen/cri/runtime/v1/ContainerConfig.js';
import type { PodSandboxConfig } from '../../../gen/cri/runtime/v1/PodSandboxConfig.js';
import { decodeCriMessage } from './cri-message-json.js';
import { loadYaml } from '../../../common/yaml.js';

/**
 * crictl's pod-config and container-config files: a CRI PodSandboxConfig or
 * ContainerConfig as JSON or YAML, checked field by field. Errors start with the
 * file's name so the user knows which of the two files is wrong.
 */

async function parseDocument(text: string, source: string): Promise<unknown> {
  const { parse } = await loadYaml();
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both kinds of file.
    return parse(text);
  } catch (err) {
    throw new TskubeError('invalid-argument', `${source}: not valid JSON or YAML: ${errorMessage(err).split('\n')[0]}`);
  }
}

function decode(typeName: string, document: unknown, source: string): Record<string, unknown> {
  if (document === null || document === undefined) throw new TskubeError('invalid-argument', `${source}: the file is empty`);
  try {
    return decodeCriMessage(typeName, document);
  } catch (err) {
    throw TskubeError.from(err).wrap(source);
  }
}

export async function parsePodConfig(text: string, source: string): Promise<PodSandboxConfig> {
  const config = decode('PodSandboxConfig', await parseDocument(text, source), source) as PodSandboxConfig;
  const metadata = config.metadata;
  if (!metadata) throw new TskubeError('invalid-argument', `${source}: metadata is not set (want at least metadata.name and metadata.namespace)`);
  if (!metadata.name) throw new TskubeError('invalid-argument', `${source}: metadata.name is not set`);
  if (!metadata.namespace) throw new TskubeError('invalid-argument', `${source}: metadata.namespace is not set`);
  // As crictl: a pod without a uid gets a fresh one, so the same file runs twice.
  if (!metadata.uid) metadata.uid = randomUUID();
  return config;
}

export async function parseContainerConfig(text: string, source: string): Promise<ContainerConfig> {
  const config = decode('ContainerConfig', await parseDocument(text, source), source) as ContainerConfig;
  if (!config.metadata) throw new TskubeError('invalid-argument', `${source}: metadata is not set (want at least metadata.name)`);
  if (!config.metadata.name) throw new TskubeError('invalid-argument', `${source}: metadata.name is not set`);
  if (!config.image?.image) throw new TskubeError('invalid-argument', `${source}: image.image is not set`);
  // The runtime shows what the user asked for beside the resolved reference.
  if (!config.image.userSpecifiedImage) config.image.userSpecifiedImage = config.image.image;
  return config;
}

async function readConfigFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TskubeError('not-found', `${what} file ${path} not found`);
    throw new TskubeError('invalid-argument', `reading ${what} file ${path}: ${errorMessage(err)}`);
  }
}

export async function loadPodConfig(path: string): Promise<PodSandboxConfig> {
  return parsePodConfig(await readConfigFile(path, 'pod config'), path);
}

export async function loadContainerConfig(path: string): Promise<ContainerConfig> {
  return parseContainerConfig(await readConfigFile(path, 'container config'), path);
}
