import { connect } from 'node:net';
import type { V1Container, V1TCPSocketAction } from '@kubernetes/client-node';
import { resolveContainerPort } from './container-port.js';
import { dialErrorText, joinHostPort } from './net-error.js';
import { errored, failure, type ProbeOutcome, success } from './probe-outcome.js';

/** Opens a TCP connection to host:port within the timeout and closes it again: connecting is passing. */
export function dialTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const address = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const settle = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      settle(failure(dialErrorText(address, undefined, true)));
    }, timeoutMs);
    const onAbort = () => {
      socket.destroy();
      settle(failure(`dial tcp ${address}: operation was canceled`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      // A normal close (FIN): the application sees a client that came and went.
      socket.end();
      socket.destroySoon?.();
      settle(success());
    });
    socket.on('error', (err) => {
      socket.destroy();
      settle(failure(dialErrorText(address, err, false)));
    });
  });
}

/** A tcpSocket probe: the host defaults to the pod IP, the port may be a container port name. */
export async function runTcpProbe(
  action: V1TCPSocketAction,
  container: V1Container | undefined,
  podIP: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const port = resolveContainerPort(action.port, container);
  if (!port.ok) return errored(port.message);
  const host = action.host || podIP;
  if (!host) return errored('the pod has no IP address yet and the probe names no host');
  return dialTcp(host, port.port, timeoutMs, signal);
}
