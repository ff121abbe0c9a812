import type { V1Pod } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';

/** The kernel's nodename field holds 64 bytes with the terminating NUL. */
export const maxHostnameChars = 63;
export const maxFqdnChars = 64;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkLabel(field: string, value: string): void {
  if (value.length > 63 || !dns1123Label.test(value)) {
    throw new TskubeError(
      'invalid-argument',
      `${field} ${JSON.stringify(value)} is not a valid DNS label: want at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
}

export interface PodHostname {
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<clusterDomain>` when spec.subdomain is set, else "". */
  domain: string;
}

/**
 * The pod's hostname and domain as upstream makes them: spec.hostnameOverride when set;
 * else spec.hostname or the pod name, cut to 63 characters without a trailing '-' or '.'.
 */
export function podHostnameAndDomain(pod: V1Pod, clusterDomain: string): PodHostname {
  const name = pod.metadata?.name ?? '';
  const override = pod.spec?.hostnameOverride;
  if (override) return { hostname: override, domain: '' };
  let hostname = name;
  const specHostname = pod.spec?.hostname;
  if (specHostname) {
    checkLabel('spec.hostname', specHostname);
    hostname = specHostname;
  }
  if (hostname.length > maxHostnameChars) {
    const cut = hostname.slice(0, maxHostnameChars).replace(/[-.]+$/, '');
    if (cut === '') throw new TskubeError('invalid-argument', `hostname for pod ${JSON.stringify(name)} was invalid: ${JSON.stringify(hostname)}`);
    hostname = cut;
  }
  let domain = '';
  const subdomain = pod.spec?.subdomain;
  if (subdomain) {
    checkLabel('spec.subdomain', subdomain);
    domain = `${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`;
  }
  return { hostname, domain };
}

/**
 * The name the sandbox's UTS namespace gets: the hostname, or with
 * spec.setHostnameAsFQDN and a subdomain, the full `<hostname>.<domain>` (at most 64).
 */
export function kernelHostname(pod: V1Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (domain === '' || pod.spec?.setHostnameAsFQDN !== true) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > maxFqdnChars) {
    throw new TskubeError(
      'invalid-argument',
      `spec.setHostnameAsFQDN: FQDN ${fqdn} is too long (${maxFqdnChars} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}
