/*
 * The kubelet's listeners as kubelet parts: the authenticated HTTPS API (enableServer,
 * address:port), the healthz port and the read-only port, with the authenticator and
 * authorizer the configuration asks for.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/logger.js';
import type { ServingCertificates } from '../bootstrap/serving-certificate.js';
import { Authenticator, type ReviewApi } from './auth/authenticator.js';
import { Authorizer } from './auth/authorizer.js';
import { Dispatcher } from './dispatch.js';
import type { KubeletHost } from './kubelet-host.js';
import { runHealthzServer, runReadOnlyServer } from './plain-servers.js';
import { runSecureServer } from './secure-server.js';
import { SummaryCollector } from './stats/collect-summary.js';
import { NodeSampler } from './stats/node-sampler.js';

export interface KubeletApiOptions {
  host: KubeletHost;
  certificates: ServingCertificates;
  /** Asks the API server (TokenReview, SubjectAccessReview); absent in standalone mode. */
  review?: ReviewApi | undefined;
  log: Logger;
  onListening?: (address: AddressInfo) => void;
}

export function serveKubeletApi(o: KubeletApiOptions, signal: AbortSignal): Record<string, Promise<void>> {
  const c = o.host.config;
  const log = o.log.child({ component: 'kubelet-api' });
  const summaries = new SummaryCollector({ host: o.host, sampler: new NodeSampler({ rootDir: o.host.rootDir, cri: o.host.cri }), log });
  const parts: Record<string, Promise<void>> = {};
  if (c.healthzPort > 0) parts['healthz server'] = runHealthzServer(c.healthzBindAddress, c.healthzPort, log, signal);
  if (c.readOnlyPort > 0)
    parts['read-only server'] = runReadOnlyServer(c.address, c.readOnlyPort, new Dispatcher({ host: o.host, log, summaries }), log, signal);
  if (!c.enableServer) return parts;

  const webhookAuthn = c.authentication.webhook.enabled && o.review;
  if (c.authentication.webhook.enabled && !o.review) log.warn('authentication.webhook needs the API server; standalone, bearer tokens are refused');
  const authenticator = new Authenticator({
    anonymous: c.authentication.anonymous.enabled,
    tokenReview: webhookAuthn && o.review ? { api: o.review, cacheTtlMs: c.authentication.webhook.cacheTTL } : undefined,
  });
  if (c.authorization.mode === 'Webhook' && !o.review)
    log.warn('authorization mode Webhook needs the API server; standalone, every request to the kubelet API is refused');
  const authorizer = new Authorizer({
    mode: c.authorization.mode,
    webhook: o.review
      ? { api: o.review, allowedTtlMs: c.authorization.webhook.cacheAuthorizedTTL, deniedTtlMs: c.authorization.webhook.cacheUnauthorizedTTL }
      : undefined,
  });
  const dispatcher = new Dispatcher({ host: o.host, log, summaries, auth: { authenticator, authorizer } });
  parts['kubelet API'] = runSecureServer(
    { config: c, certificates: o.certificates, dispatcher, log, ...(o.onListening ? { onListening: o.onListening } : {}) },
    signal,
  );
  parts['serving certificate'] = o.certificates.run(signal);
  return parts;
}
