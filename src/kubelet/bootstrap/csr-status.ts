import type { V1CertificateSigningRequest } from '@kubernetes/client-node';

// What a CertificateSigningRequest's status says, for the wait loop. Upstream treats
// Denied and Failed as final, and an issued certificate only counts once Approved.

export type CsrOutcome =
  | { state: 'pending' }
  | { state: 'issued'; certificatePem: string }
  | { state: 'denied'; reason: string; message: string }
  | { state: 'failed'; reason: string; message: string };

export function csrOutcome(csr: V1CertificateSigningRequest): CsrOutcome {
  const conditions = csr.status?.conditions ?? [];
  const has = (type: string) => conditions.find((c) => c.type === type && c.status !== 'False');
  const denied = has('Denied');
  if (denied) return { state: 'denied', reason: denied.reason ?? '', message: denied.message ?? '' };
  const failed = has('Failed');
  if (failed) return { state: 'failed', reason: failed.reason ?? '', message: failed.message ?? '' };
  const certificate = csr.status?.certificate;
  if (has('Approved') && certificate) {
    // The client decodes the JSON base64 field to a string already on some paths and not on others.
    const pem = certificate.includes('-----BEGIN') ? certificate : Buffer.from(certificate, 'base64').toString('utf8');
    return { state: 'issued', certificatePem: pem };
  }
  return { state: 'pending' };
}

export function describeFinal(name: string, outcome: Exclude<CsrOutcome, { state: 'pending' | 'issued' }>): string {
  const why = [outcome.reason, outcome.message].filter((s) => s !== '').join(': ');
  return `CertificateSigningRequest ${name} was ${outcome.state}${why ? `: ${why}` : ''}`;
}
