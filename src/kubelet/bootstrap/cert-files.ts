import { join } from 'node:path';

// The on-disk names upstream's certificate file store uses in --cert-dir, so tools
// and runbooks that look for kubelet-client-current.pem find it.

export const clientPairPrefix = 'kubelet-client';
/** The serving certificate's pairs when serverTLSBootstrap is on (upstream's names too). */
export const serverPairPrefix = 'kubelet-server';
export type PairPrefix = typeof clientPairPrefix | typeof serverPairPrefix;
export const currentClientPairFile = `${clientPairPrefix}-current.pem`;
/** The key of a request in flight, kept so a restart mid-bootstrap reuses the same CSR. */
export const pendingClientKeyFile = `${clientPairPrefix}.key.tmp`;

const pad = (n: number) => String(n).padStart(2, '0');

/** `kubelet-client-2006-01-02-15-04-05.pem`, in local time as upstream writes it. */
export function clientPairFileName(at: Date, prefix: PairPrefix = clientPairPrefix): string {
  const stamp = [at.getFullYear(), pad(at.getMonth() + 1), pad(at.getDate()), pad(at.getHours()), pad(at.getMinutes()), pad(at.getSeconds())].join('-');
  return `${prefix}-${stamp}.pem`;
}

export function currentClientPairPath(certDir: string, prefix: PairPrefix = clientPairPrefix): string {
  return join(certDir, `${prefix}-current.pem`);
}

/**
 * When to renew a certificate: at a uniformly random point between 70% and 90% of its
 * lifetime (client-go's certificate manager), so a fleet of nodes bootstrapped together
 * does not renew together. `random` is in [0, 1).
 */
export function rotationDeadline(notBefore: Date, notAfter: Date, random: number): Date {
  const total = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + total * (0.7 + 0.2 * random));
}
