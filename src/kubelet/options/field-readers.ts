import { TskubeError } from '../../common/errors.js';
import { invalid, isPlainObject, oneOf, show, str, stringMap, type Reader } from '../../common/field-readers.js';
import { parseGoDuration } from '../../common/go-duration.js';
import { tryParseQuantity } from '../../kube/quantity.js';
import { evictionSignals, taintEffects, type Taint, type TaintEffect } from './types.js';

// The KubeletConfiguration readers beyond the generic ones in src/common/field-readers.ts
// (re-exported, so the decoder reads every field through one namespace).
export * from '../../common/field-readers.js';

/** kubeReserved / systemReserved: resource name → quantity. */
export const reservedResources = stringMap((_k, value, path) => {
  const q = tryParseQuantity(value);
  if (q === undefined) throw invalid(path, value, 'want a quantity such as "100m" or "1Gi"');
  if (q < 0) throw invalid(path, value, 'must not be negative');
});

/** evictionHard: signal → quantity or percentage. */
export const evictionThresholds = stringMap((key, value, path) => {
  if (!(evictionSignals as readonly string[]).includes(key)) {
    throw new TskubeError('invalid-argument', `${path}: unknown eviction signal ${show(key)}: want one of ${evictionSignals.join(', ')}`);
  }
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  if (pct) {
    if (Number(pct[1]) > 100) throw invalid(path, value, 'a percentage must be from 0% to 100%');
    return;
  }
  const q = tryParseQuantity(value);
  if (q === undefined || q < 0) throw invalid(path, value, 'want a quantity such as "100Mi" or a percentage such as "10%"');
});

/** evictionSoftGracePeriod: signal → Go duration. */
export const evictionGracePeriods = stringMap((key, value, path) => {
  if (!(evictionSignals as readonly string[]).includes(key)) {
    throw new TskubeError('invalid-argument', `${path}: unknown eviction signal ${show(key)}: want one of ${evictionSignals.join(', ')}`);
  }
  const ms = parseGoDuration(value);
  if (ms === undefined || ms < 0) throw invalid(path, value, 'want a Go duration such as "1m30s"');
});

// Label/taint key syntax (k8s.io/apimachinery validation.IsQualifiedName).
const qualifiedNamePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a qualified name has at most one "/"';
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '' || prefix.length > 253 || !dnsSubdomain.test(prefix)) return `prefix ${show(prefix)} must be a DNS subdomain`;
  }
  if (name === '' || name.length > 63 || !qualifiedNamePart.test(name)) {
    return 'name part must be 1-63 alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric';
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !qualifiedNamePart.test(value)) {
    return 'a label value must be at most 63 alphanumeric characters, "-", "_" or ".", starting and ending with an alphanumeric';
  }
  return undefined;
}

export const taint: Reader<Taint> = (v, path) => {
  if (!isPlainObject(v)) throw invalid(path, v, 'want a taint {key, value, effect}');
  for (const k of Object.keys(v)) {
    if (!['key', 'value', 'effect', 'timeAdded'].includes(k)) throw invalid(`${path}.${k}`, v[k], 'unknown field of a taint');
  }
  if (v['timeAdded'] !== undefined && v['timeAdded'] !== null) throw invalid(`${path}.timeAdded`, v['timeAdded'], 'must not be set');
  const key = str(v['key'], `${path}.key`);
  const keyProblem = qualifiedNameProblem(key);
  if (keyProblem) throw invalid(`${path}.key`, key, keyProblem);
  const value = v['value'] === undefined || v['value'] === null ? undefined : str(v['value'], `${path}.value`);
  const valueProblem = value === undefined ? undefined : labelValueProblem(value);
  if (valueProblem) throw invalid(`${path}.value`, value, valueProblem);
  const effect: TaintEffect = oneOf(taintEffects)(v['effect'], `${path}.effect`);
  return value === undefined || value === '' ? { key, effect } : { key, value, effect };
};
