// Network errors worded as Go's net package words them ("dial tcp 10.88.0.5:81: connect:
// connection refused"), because those are the texts upstream's probes put in Unhealthy
// events and people search for.

/** Go's strerror for the errnos a connect or read meets. */
const errnoText: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EINVAL: 'invalid argument',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EPIPE: 'broken pipe',
};

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "10.88.0.5:81", "[fd00::5]:81": Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The text of a failed dial: "dial tcp 10.88.0.5:81: connect: connection refused", or "...: i/o timeout". */
export function dialErrorText(address: string, err: unknown, timedOut: boolean): string {
  if (timedOut) return `dial tcp ${address}: i/o timeout`;
  const code = errnoOf(err);
  const text = code ? errnoText[code] : undefined;
  if (text) return `dial tcp ${address}: connect: ${text}`;
  return `dial tcp ${address}: ${err instanceof Error ? err.message : String(err)}`;
}

/** The text of an error on an established connection: "read: connection reset by peer", "EOF". */
export function connectionErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Node's word for a peer that closed before answering; Go reads it as end of file.
  if (message === 'socket hang up') return 'EOF';
  const code = errnoOf(err);
  const text = code ? errnoText[code] : undefined;
  return text ? `read: ${text}` : message;
}
