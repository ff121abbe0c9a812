// The kubelet's plain-HTTP health endpoint on healthzBindAddress:healthzPort (10248 by
// default; kubeadm waits on it). A port that cannot be bound is retried every 5 s, as
// upstream does, with one log line per distinct error.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import { sleep } from '../../kube/sleep.js';
import { healthzReply, type HealthCheck } from './healthz.js';

export interface HealthzServerOptions {
  address: string;
  port: number;
  checks: readonly HealthCheck[];
  log: Logger;
}

export class HealthzServer {
  readonly #o: HealthzServerOptions;
  #server: Server | undefined;

  constructor(options: HealthzServerOptions) {
    this.#o = options;
  }

  /** The port actually bound (tests pass 0); undefined until listening. */
  get port(): number | undefined {
    const a = this.#server?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  async run(signal: AbortSignal): Promise<void> {
    let lastError = '';
    while (!signal.aborted) {
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const reply =
          req.method === 'GET' || req.method === 'HEAD'
            ? healthzReply(url.pathname, url.searchParams, this.#o.checks, (failed, why) => this.#o.log.warn({ failed, why }, 'healthz check failed'))
            : undefined;
        if (!reply) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
          return;
        }
        res.writeHead(reply.status, reply.headers).end(req.method === 'HEAD' ? undefined : reply.body);
      });
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.#o.port, this.#o.address, () => resolve());
        });
        this.#server = server;
        this.#o.log.info({ address: this.#o.address, port: this.port }, 'healthz listening');
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        return;
      } catch (err) {
        const message = errorMessage(err);
        if (message !== lastError)
          this.#o.log.error({ address: this.#o.address, port: this.#o.port, err: message }, 'failed to start the healthz server; retrying');
        lastError = message;
        server.close();
        await sleep(5000, signal);
      }
    }
  }
}
