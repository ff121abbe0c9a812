import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { goCipherSuites, goTlsVersions, type GoTlsVersion } from '../options/tls-settings.js';
import type { KubeletConfiguration } from '../options/types.js';

/**
 * The HTTPS server's TLS settings from the configuration: the serving pair, tlsMinVersion
 * and tlsCipherSuites in OpenSSL's names (TLS 1.3 suites stay on unless named, as in Go),
 * and, with a client CA, client certificates requested but not required: a request
 * without one may still carry a token. One that is not from the CA is refused at TLS
 * (the server drops the connection before any HTTP; see secure-server.ts).
 */
export function tlsOptions(
  config: KubeletConfiguration,
  pair: { certPem: string; keyPem: string },
  clientCaPem: string | undefined,
): TlsOptions & SecureContextOptions {
  const ciphers = config.tlsCipherSuites.map((name) => goCipherSuites[name]).filter((c): c is string => c !== undefined);
  return {
    cert: pair.certPem,
    key: pair.keyPem,
    minVersion: config.tlsMinVersion === '' ? 'TLSv1.2' : goTlsVersions[config.tlsMinVersion as GoTlsVersion],
    ...(ciphers.length > 0 ? { ciphers: ciphers.join(':') } : {}),
    ...(clientCaPem ? { ca: clientCaPem, requestCert: true, rejectUnauthorized: false } : { requestCert: false }),
  };
}
