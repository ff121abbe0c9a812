import { isIP } from 'node:net';
import { badFlagValue as bad } from '../../common/go-flags.js';
import { labelValueProblem, qualifiedNameProblem } from './field-readers.js';
import { taintEffects, type Taint, type TaintEffect } from './types.js';

// Parsers for the kubelet flags whose values have structure of their own.

/** "k=v,k2=v2" (--node-labels); later keys win, as with repeated flags. */
export function parseKeyValueList(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of text.split(',')) {
    const pair = item.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw bad(flag, pair, 'want key=value');
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) throw bad(flag, pair, `label key: ${keyProblem}`);
    const valueProblem = labelValueProblem(value);
    if (valueProblem) throw bad(flag, pair, valueProblem);
    out[key] = value;
  }
  return out;
}

// The labels a kubelet may set on its own Node in the kubernetes.io and k8s.io
// namespaces (upstream kubeletapis.KubeletLabels and the two open namespaces).
const kubeletLabels = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
]);
const openNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const inNamespace = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** Labels in kubernetes.io / k8s.io the NodeRestriction admission would refuse, as upstream checks them. */
export function forbiddenNodeLabels(labels: Record<string, string>): string[] {
  return Object.keys(labels).filter((key) => {
    const slash = key.indexOf('/');
    if (slash < 0) return false;
    const ns = key.slice(0, slash);
    if (!inNamespace(ns, 'kubernetes.io') && !inNamespace(ns, 'k8s.io')) return false;
    if (kubeletLabels.has(key)) return false;
    return !openNamespaces.some((open) => inNamespace(ns, open));
  });
}

/** "key=value:Effect,key2:Effect" (--register-with-taints). */
export function parseTaintList(text: string, flag: string): Taint[] {
  const out: Taint[] = [];
  for (const item of text.split(',')) {
    const spec = item.trim();
    if (spec === '') continue;
    const colon = spec.lastIndexOf(':');
    if (colon < 0) throw bad(flag, spec, 'want key=value:Effect or key:Effect');
    const effect = spec.slice(colon + 1);
    if (!(taintEffects as readonly string[]).includes(effect)) throw bad(flag, spec, `effect must be one of ${taintEffects.join(', ')}`);
    const kv = spec.slice(0, colon);
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) throw bad(flag, spec, `taint key: ${keyProblem}`);
    const valueProblem = labelValueProblem(value);
    if (valueProblem) throw bad(flag, spec, `taint value: ${valueProblem}`);
    out.push(value === '' ? { key, effect: effect as TaintEffect } : { key, value, effect: effect as TaintEffect });
  }
  return out;
}

/** "--node-ip": one address, or two of different families for dual stack. */
export function parseNodeIPs(text: string, flag: string): string[] {
  const ips = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ips.length > 2) throw bad(flag, text, 'at most two addresses, one IPv4 and one IPv6');
  for (const ip of ips) if (isIP(ip) === 0) throw bad(flag, text, `"${ip}" is not an IP address`);
  if (ips.length === 2 && isIP(ips[0]!) === isIP(ips[1]!)) throw bad(flag, text, 'two addresses must be one IPv4 and one IPv6');
  return ips;
}

/** Comma-separated IPs (--cluster-dns). */
export function parseIPList(text: string, flag: string): string[] {
  const ips = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const ip of ips) if (isIP(ip) === 0) throw bad(flag, text, `"${ip}" is not an IP address`);
  return ips;
}
