import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/logger.js';
import type { UserInfo } from './auth/authenticator.js';
import type { KubeletHost } from './kubelet-host.js';
import type { RouteParams } from './routes.js';

/** One request, authenticated and authorized, on its way to its handler. */
export interface RequestContext {
  req: IncomingMessage;
  /** For an upgrade request this answers on the raw connection, until a handler takes the connection over. */
  res: ServerResponse;
  url: URL;
  params: RouteParams;
  /** Set for an upgrade request (exec, attach, port-forward over websocket or SPDY). */
  upgrade?: { socket: Duplex; head: Buffer } | undefined;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Undefined on the read-only port. */
  user?: UserInfo | undefined;
  host: KubeletHost;
  log: Logger;
}

export type Handler = (ctx: RequestContext) => Promise<void>;
