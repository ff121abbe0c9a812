/*
 * Every request to the kubelet API, plain or upgrade, goes the same way:
 *
 *   authenticate ─401─► authorize (each permission that would do) ─403─► route ─404/405─► handler
 *
 * No handler runs before both checks pass. The read-only port skips both and serves
 * only its few read-only routes. Refusals are logged with who asked and why, so an
 * operator can tell a missing RBAC binding from a bad credential.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { TskubeError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Authenticator, Credentials, UserInfo } from './auth/authenticator.js';
import type { Authorizer } from './auth/authorizer.js';
import { forbiddenMessage, requestAttributes } from './auth/request-attributes.js';
import { configzBody } from './handlers/configz.js';
import { serveContainerLogs } from './handlers/container-logs.js';
import { serveHealthz } from './handlers/healthz.js';
import { PodListBody, runningPodList } from './handlers/pods.js';
import { serveRun } from './handlers/run.js';
import { replyJson, replyText } from './http-reply.js';
import type { KubeletHost } from './kubelet-host.js';
import type { RequestContext } from './request-context.js';
import { debuggingRoutes, longRunningRoutes, matchRoute, metricBucket, readOnlyRoutes, type RouteName } from './routes.js';
import type { SummaryCollector } from './stats/collect-summary.js';
import { resourceMetricsText } from './stats/resource-metrics.js';

export interface DispatcherOptions {
  host: KubeletHost;
  log: Logger;
  summaries: SummaryCollector;
  /** Absent on the read-only port. */
  auth?: { authenticator: Authenticator; authorizer: Authorizer } | undefined;
}

const knownMethods = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);

/** The verified client certificate's subject and the Authorization header. */
export function credentialsOf(req: IncomingMessage): Credentials {
  const socket = req.socket as Partial<TLSSocket>;
  let certificate: Credentials['certificate'];
  if (socket.authorized && typeof socket.getPeerCertificate === 'function') {
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[] | undefined> | undefined;
    const cn = subject?.['CN'];
    const o = subject?.['O'];
    if (cn !== undefined)
      certificate = { commonName: Array.isArray(cn) ? (cn[0] ?? '') : cn, organizations: o === undefined ? [] : Array.isArray(o) ? o : [o] };
  }
  return { certificate, authorization: req.headers.authorization };
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #podList = new PodListBody();

  constructor(options: DispatcherOptions) {
    this.#o = options;
  }

  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void this.#serve(req, res, undefined);
  };

  /** An upgrade request: answered on the raw connection until a streaming handler takes it over. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.end());
    socket.on('error', () => socket.destroy());
    void this.#serve(req, res, { socket, head });
  };

  async #serve(req: IncomingMessage, res: ServerResponse, upgrade: RequestContext['upgrade']): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = matchRoute(req.method ?? 'GET', url.pathname);
    const routeName = route.kind === 'route' ? route.route : undefined;
    const end = this.#o.host.metrics.httpRequest({
      method: knownMethods.has(req.method ?? '') ? (req.method as string) : 'other',
      path: metricBucket(url.pathname),
      server_type: this.#o.auth ? 'readwrite' : 'readonly',
      long_running: routeName && longRunningRoutes.has(routeName) ? 'true' : 'false',
    });
    const controller = new AbortController();
    const abort = () => controller.abort();
    (upgrade?.socket ?? res).once('close', abort);
    try {
      let user: UserInfo | undefined;
      if (this.#o.auth) {
        user = await this.#check(req, res, url.pathname, this.#o.auth);
        if (!user) return;
      }
      if (route.kind === 'not-found') return replyText(res, 404, '404 page not found');
      if (route.kind === 'method-not-allowed') {
        res.setHeader('allow', route.allow.join(', '));
        return replyText(res, 405, `${req.method} is not allowed here`);
      }
      if (!this.#o.auth && !readOnlyRoutes.has(route.route)) return replyText(res, 404, '404 page not found');
      if (debuggingRoutes.has(route.route) && !this.#o.host.config.enableDebuggingHandlers) return replyText(res, 405, 'Debug endpoints are disabled.');
      const ctx: RequestContext = { req, res, url, params: route.params, upgrade, signal: controller.signal, user, host: this.#o.host, log: this.#o.log };
      await this.#route(route.route, ctx);
    } catch (err) {
      const e = TskubeError.from(err);
      this.#o.log.error({ path: url.pathname, err: e.message }, 'kubelet API request failed');
      if (!res.headersSent) replyText(res, 500, e.detail);
      else res.end();
    } finally {
      (upgrade?.socket ?? res).off('close', abort);
      end();
    }
  }

  /** Authentication and authorization; answers 401/403/500 itself and returns undefined when the request may not go on. */
  async #check(req: IncomingMessage, res: ServerResponse, path: string, auth: NonNullable<DispatcherOptions['auth']>): Promise<UserInfo | undefined> {
    const who = await auth.authenticator.authenticate(credentialsOf(req));
    if (!who.ok) {
      this.#o.log.info({ path, from: req.socket.remoteAddress, why: who.why }, 'kubelet API request unauthorized (401)');
      replyText(res, 401, 'Unauthorized');
      return undefined;
    }
    const attrs = requestAttributes(req.method ?? 'GET', path, this.#o.host.nodeName);
    for (const a of attrs) {
      const decision = await auth.authorizer.authorize(who.user, a);
      if (decision.allowed) return who.user;
      if ('error' in decision) {
        this.#o.log.error({ path, user: who.user.name, err: decision.error }, 'kubelet API authorization failed');
        replyText(res, 500, `Authorization error (user=${who.user.name}, verb=${a.verb}, resource=nodes, subresource=${a.subresource})`);
        return undefined;
      }
    }
    const message = forbiddenMessage(who.user.name, attrs);
    this.#o.log.info(
      { path, user: who.user.name, groups: who.user.groups, verb: attrs[0]?.verb, subresources: attrs.map((a) => a.subresource) },
      'kubelet API request forbidden (403)',
    );
    replyText(res, 403, message);
    return undefined;
  }

  async #route(route: RouteName, ctx: RequestContext): Promise<void> {
    const { host, res, url } = ctx;
    switch (route) {
      case 'healthz':
        return serveHealthz(res, url, host.healthChecks);
      case 'pods': {
        const body = this.#podList.of(host.pods());
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'runningpods':
        return replyJson(res, 200, runningPodList(await host.runtimePods()));
      case 'configz':
        return replyJson(res, 200, configzBody(host.config));
      case 'stats-summary':
        return replyJson(res, 200, await this.#o.summaries.get({ onlyCpuAndMemory: url.searchParams.get('only_cpu_and_memory') === 'true' }));
      case 'metrics': {
        const text = await host.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': host.metrics.registry.contentType });
        res.end(text);
        return;
      }
      case 'metrics-probes': {
        const text = await host.metrics.probeRegistry.metrics();
        res.writeHead(200, { 'content-type': host.metrics.probeRegistry.contentType });
        res.end(text);
        return;
      }
      case 'metrics-resource': {
        const summary = await this.#o.summaries.get({ onlyCpuAndMemory: true }).catch((err: unknown) => {
          ctx.log.warn({ err: TskubeError.from(err).message }, 'collecting resource metrics failed');
          return undefined;
        });
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(resourceMetricsText(summary));
        return;
      }
      case 'container-logs':
        return serveContainerLogs(ctx);
      // Streaming (ws, SPDY framing) loads on the first exec, attach or port-forward:
      // most nodes never serve one, and the code costs a few MiB once loaded.
      case 'exec':
      case 'attach':
        return (await import('./handlers/streaming.js')).serveExecOrAttach(ctx, route);
      case 'port-forward':
        return (await import('./handlers/streaming.js')).servePortForward(ctx);
      case 'run':
        return serveRun(ctx);
    }
  }
}
