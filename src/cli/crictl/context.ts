import { existsSync } from 'node:fs';
import { TskubeError } from '../../common/errors.js';
import type { CriClient } from '../../cri-client/index.js';
import { socketPath } from '../../cri-client/endpoint.js';
import type { CommandIo } from '../io.js';
import type { CrictlSettings } from './settings.js';

/** What every crictl subcommand gets: its I/O, the resolved settings, and a client on demand. */
export interface CrictlContext {
  io: CommandIo;
  settings: CrictlSettings;
  /** A connected client; the first call picks the endpoint (probing the defaults if need be). */
  client(): Promise<CriClient>;
  /** Prints a line to stderr when --debug is on. */
  debug(message: string): void;
  /** Releases the connection; called by the dispatcher when the subcommand returns. */
  close(): void;
}

export function createContext(io: CommandIo, settings: CrictlSettings): CrictlContext {
  let pending: Promise<CriClient> | undefined;
  let made: CriClient | undefined;
  const debug = (message: string) => {
    if (settings.debug) io.stderr.write(`DEBU ${message}\n`);
  };

  async function connect(): Promise<CriClient> {
    const { CriClient } = await import('../../cri-client/cri-client.js');
    const candidates = settings.runtimeEndpoints;
    if (candidates.length === 1) {
      const endpoint = candidates[0] as string;
      debug(`using runtime endpoint ${endpoint} (from ${settings.runtimeEndpointSource})`);
      return new CriClient({ endpoint, imageEndpoint: settings.imageEndpoint ?? endpoint, timeoutMs: settings.timeoutMs });
    }
    // No endpoint configured: take the first default socket that exists and answers.
    const failures: string[] = [];
    for (const endpoint of candidates) {
      const path = socketPath(endpoint);
      if (path && !existsSync(path)) {
        failures.push(`${endpoint}: no such socket`);
        continue;
      }
      const client = new CriClient({ endpoint, imageEndpoint: settings.imageEndpoint ?? endpoint, timeoutMs: settings.timeoutMs });
      try {
        await client.version({ signal: io.signal });
        io.stderr.write(
          `WARN no runtime endpoint configured; using ${endpoint}, the first default that answered (set --runtime-endpoint or ${'/etc/crictl.yaml'} to silence this)\n`,
        );
        return client;
      } catch (err) {
        client.close();
        failures.push(`${endpoint}: ${TskubeError.from(err).detail}`);
      }
    }
    throw new TskubeError(
      'unavailable',
      `no container runtime answered on the default endpoints (${failures.join('; ')}); set --runtime-endpoint or CONTAINER_RUNTIME_ENDPOINT`,
    );
  }

  return {
    io,
    settings,
    debug,
    client() {
      pending ??= connect().then((c) => (made = c));
      return pending;
    },
    close() {
      made?.close();
    },
  };
}
