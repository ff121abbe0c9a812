/*
 * Which permission a request to the kubelet needs, as upstream maps it
 * (pkg/kubelet/server/auth.go, with KubeletFineGrainedAuthz, GA in v1.36): always the
 * resource `nodes` named after this node, the verb from the HTTP method, and a
 * subresource from the path. Some paths accept either of two subresources: the narrow
 * one first, then `proxy`, which allows everything.
 */

export interface NodeAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
  apiVersion: 'v1';
  path: string;
}

const verbs: Record<string, string> = { POST: 'create', GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** Upstream's isSubpath: the path itself, or below it. */
export function isSubpath(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/$/, '');
  return path === p || (path.startsWith(p) && path[p.length] === '/');
}

export function subresourcesFor(path: string): string[] {
  const out: string[] = [];
  if (isSubpath(path, '/pods') || isSubpath(path, '/runningpods/')) out.push('pods');
  else if (isSubpath(path, '/healthz')) out.push('healthz');
  else if (isSubpath(path, '/configz')) out.push('configz');
  if (isSubpath(path, '/stats/')) out.push('stats');
  else if (isSubpath(path, '/metrics')) out.push('metrics');
  else if (isSubpath(path, '/logs/')) out.push('log');
  else if (isSubpath(path, '/checkpoint/')) out.push('checkpoint');
  else if (isSubpath(path, '/statusz')) out.push('statusz');
  else if (isSubpath(path, '/flagz')) out.push('configz');
  else out.push('proxy');
  return out;
}

/** The attributes to ask about, in order; any one allowed lets the request through. */
export function requestAttributes(method: string, path: string, nodeName: string): NodeAttributes[] {
  const verb = verbs[method] ?? '';
  return subresourcesFor(path).map((subresource) => ({ verb, resource: 'nodes', subresource, name: nodeName, apiVersion: 'v1', path }));
}

/** The 403 body, in upstream's words, naming who asked and every permission that would do. */
export function forbiddenMessage(user: string, attrs: readonly NodeAttributes[]): string {
  const first = attrs[0];
  return `Forbidden (user=${user}, verb=${first?.verb ?? ''}, resource=nodes, subresource(s)=[${attrs.map((a) => a.subresource).join(' ')}])\n`;
}
