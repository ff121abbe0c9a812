/*
 * The kubelet API's paths (upstream's, so the API server's node proxy, metrics-server
 * and tools find them), matched without I/O. Streaming and log paths come in two forms,
 * with and without the pod UID.
 */

export type RouteName =
  | 'healthz'
  | 'pods'
  | 'runningpods'
  | 'configz'
  | 'stats-summary'
  | 'metrics'
  | 'metrics-resource'
  | 'metrics-probes'
  | 'container-logs'
  | 'exec'
  | 'attach'
  | 'port-forward'
  | 'run';

export interface RouteParams {
  namespace?: string;
  pod?: string;
  uid?: string;
  container?: string;
  /** /healthz/<check>. */
  check?: string;
}

export type RouteMatch = { kind: 'route'; route: RouteName; params: RouteParams } | { kind: 'not-found' } | { kind: 'method-not-allowed'; allow: string[] };

/** Routes that need enableDebuggingHandlers (upstream's InstallAuthRequiredHandlers). */
export const debuggingRoutes: ReadonlySet<RouteName> = new Set(['exec', 'attach', 'port-forward', 'run', 'container-logs', 'runningpods', 'configz']);
/** The only routes of the read-only port (10255). */
export const readOnlyRoutes: ReadonlySet<RouteName> = new Set(['healthz', 'pods', 'stats-summary', 'metrics', 'metrics-resource', 'metrics-probes']);
/** Routes that hold the connection (exec and friends): upstream's long_running label. */
export const longRunningRoutes: ReadonlySet<RouteName> = new Set(['exec', 'attach', 'port-forward']);

const get = ['GET'];
const getPost = ['GET', 'POST'];

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function matchRoute(method: string, path: string): RouteMatch {
  const raw = path.split('/').slice(1);
  if (raw.at(-1) === '') raw.pop();
  const parts = raw.map(decode);
  if (parts.some((p) => p === undefined || p === '')) return { kind: 'not-found' };
  const s = parts as string[];
  const m = (route: RouteName, methods: string[], params: RouteParams = {}): RouteMatch =>
    methods.includes(method) || (method === 'HEAD' && methods.includes('GET'))
      ? { kind: 'route', route, params }
      : { kind: 'method-not-allowed', allow: methods };
  const [head, ...rest] = s;
  switch (head) {
    case 'healthz':
      if (rest.length === 0) return m('healthz', get);
      if (rest.length === 1) return m('healthz', get, { check: rest[0] as string });
      break;
    case 'pods':
      if (rest.length === 0) return m('pods', get);
      break;
    case 'runningpods':
      if (rest.length === 0) return m('runningpods', get);
      break;
    case 'configz':
      if (rest.length === 0) return m('configz', get);
      break;
    case 'stats':
      if (rest.length === 1 && rest[0] === 'summary') return m('stats-summary', getPost);
      break;
    case 'metrics':
      if (rest.length === 0) return m('metrics', get);
      if (rest.length === 1 && rest[0] === 'resource') return m('metrics-resource', get);
      if (rest.length === 1 && rest[0] === 'probes') return m('metrics-probes', get);
      break;
    case 'containerLogs':
      if (rest.length === 3) return m('container-logs', get, { namespace: rest[0] as string, pod: rest[1] as string, container: rest[2] as string });
      break;
    case 'exec':
    case 'attach':
    case 'run': {
      const route: RouteName = head;
      const methods = head === 'run' ? ['POST'] : getPost;
      if (rest.length === 3) return m(route, methods, { namespace: rest[0] as string, pod: rest[1] as string, container: rest[2] as string });
      if (rest.length === 4)
        return m(route, methods, { namespace: rest[0] as string, pod: rest[1] as string, uid: rest[2] as string, container: rest[3] as string });
      break;
    }
    case 'portForward':
      if (rest.length === 2) return m('port-forward', getPost, { namespace: rest[0] as string, pod: rest[1] as string });
      if (rest.length === 3) return m('port-forward', getPost, { namespace: rest[0] as string, pod: rest[1] as string, uid: rest[2] as string });
      break;
  }
  return { kind: 'not-found' };
}

const metricBuckets = new Set([
  'healthz',
  'pods',
  'stats',
  'metrics',
  'metrics/cadvisor',
  'metrics/probes',
  'metrics/resource',
  'run',
  'exec',
  'attach',
  'portForward',
  'containerLogs',
  'configz',
  'runningpods',
  'logs',
  'debug',
]);

/** The `path` label of kubelet_http_requests_*: the first path segment ("metrics/<x>" under /metrics), else "other". */
export function metricBucket(path: string): string {
  const parts = path.replace(/^\//, '').split('/', 3);
  const root = parts[0] === 'metrics' && parts.length > 1 ? `metrics/${parts[1]}` : (parts[0] ?? '');
  return metricBuckets.has(root) ? root : 'other';
}
