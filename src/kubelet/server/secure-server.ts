/*
 * The kubelet API on address:port (10250): HTTPS with the serving certificate from
 * ServingCertificates (swapped in place when it rotates), client certificates checked
 * against authentication.x509.clientCAFile, and every request through the Dispatcher.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TskubeError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { sleep } from '../../common/sleep.js';
import type { ServingCertificates } from '../bootstrap/serving-certificate.js';
import type { KubeletConfiguration } from '../options/types.js';
import type { Dispatcher } from './dispatch.js';
import { close, listen } from './listen.js';
import { tlsOptions } from './tls-options.js';

export interface SecureServerOptions {
  config: KubeletConfiguration;
  certificates: ServingCertificates;
  dispatcher: Dispatcher;
  log: Logger;
  /** Told the address once the server listens (tests, the log). */
  onListening?: (address: AddressInfo) => void;
}

/** Reads authentication.x509.clientCAFile; a configured but unreadable file stops the kubelet with the path in the message. */
export async function readClientCa(config: KubeletConfiguration): Promise<string | undefined> {
  const file = config.authentication.x509.clientCAFile;
  if (!file) return undefined;
  try {
    const pem = await readFile(file, 'utf8');
    if (!pem.includes('BEGIN CERTIFICATE')) throw new TskubeError('invalid-argument', 'no PEM certificate in it');
    return pem;
  } catch (err) {
    throw TskubeError.from(err, 'invalid-argument').wrap(`authentication.x509.clientCAFile ${file}`);
  }
}

export async function runSecureServer(o: SecureServerOptions, signal: AbortSignal): Promise<void> {
  const clientCa = await readClientCa(o.config);
  if (!o.certificates.current) o.log.info({ mode: o.certificates.mode }, 'kubelet API waits for its serving certificate');
  const pair = await Promise.race([
    o.certificates.ready,
    new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true })),
  ]);
  if (!pair || signal.aborted) return;
  const server = https.createServer(tlsOptions(o.config, pair, clientCa));
  server.keepAliveTimeout = 90_000;
  // Before the HTTP machinery's own listener, so a refused connection never reaches the parser.
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    // Presented a certificate the client CA did not sign: refused here, before any HTTP.
    if (!socket.authorized && clientCa && Object.keys(socket.getPeerCertificate() ?? {}).length > 0) {
      o.log.info(
        { from: socket.remoteAddress, why: String(socket.authorizationError) },
        'kubelet API refused a client certificate not signed by the client CA',
      );
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err, socket) => o.log.debug({ from: socket.remoteAddress, err: err.message }, 'kubelet API TLS handshake failed'));
  server.on('request', o.dispatcher.handleRequest);
  server.on('upgrade', o.dispatcher.handleUpgrade);
  const unsubscribe = o.certificates.onChange((next) => {
    server.setSecureContext(tlsOptions(o.config, next, clientCa));
    o.log.info({ notAfter: next.notAfter.toISOString(), source: next.source }, 'kubelet API serves the new certificate');
  });
  try {
    const at = await listen(server, o.config.address, o.config.port, 'kubelet API (address, port)');
    o.log.info(
      { address: at.address, port: at.port, certificate: pair.source, clientCA: o.config.authentication.x509.clientCAFile || undefined },
      'kubelet API listening',
    );
    o.onListening?.(at);
    await sleep(Infinity, signal);
  } finally {
    unsubscribe();
    await close(server);
  }
}
