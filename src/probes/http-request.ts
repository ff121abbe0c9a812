// The GET request of an httpGet probe or lifecycle hook, built as upstream builds it
// (pkg/probe/http/request.go): scheme lower-cased (http by default), host defaulting to the
// pod IP, the port by number or container port name, header names in Go's canonical form,
// `User-Agent: kube-probe/<major>.<minor>` (kube-lifecycle for hooks) and `Accept: */*`
// unless the spec sets them (an empty Accept sends none), and a `Host` header as the
// request's host. Pure.
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import { kubernetesVersion } from '../kubelet/version.js';
import { resolveContainerPort } from './container-port.js';
import { joinHostPort } from './net-error.js';

export interface HttpGetRequest {
  scheme: string;
  /** A host name or IP address (no brackets). */
  host: string;
  port: number;
  /** The request target: path and query, starting with "/". */
  target: string;
  /** Header lines in order, names canonical; repeated names are repeated lines. */
  headers: [string, string][];
  /** The URL as Go prints it, for messages: `Get "http://10.88.0.5:8080/healthz": ...`. */
  url: string;
}

export type HttpGetBuild = { ok: true; request: HttpGetRequest } | { ok: false; message: string };

const [major, minor] = kubernetesVersion.replace(/^v/, '').split('.');
/** "kube-probe/1.36": what upstream's kubelet of the same minor version sends. */
export const probeUserAgent = `kube-probe/${major}.${minor}`;
export const lifecycleUserAgent = `kube-lifecycle/${major}.${minor}`;

/** RFC 7230 token characters: what Go accepts as a header field name. */
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isValidHeaderName(name: string): boolean {
  return tokenRe.test(name);
}

/** Go's ValidHeaderFieldValue: no control characters other than horizontal tab. */
export function isValidHeaderValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(value);
}

/** Go's CanonicalMIMEHeaderKey: "x-forwarded-for" → "X-Forwarded-For"; names that are not tokens stay as written. */
export function canonicalHeaderName(name: string): string {
  if (!isValidHeaderName(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

export function buildHttpGetRequest(action: V1HTTPGetAction, container: V1Container | undefined, podIP: string, userAgent: string): HttpGetBuild {
  const port = resolveContainerPort(action.port, container);
  if (!port.ok) return port;
  const scheme = (action.scheme || 'HTTP').toLowerCase();
  const host = action.host || podIP;
  if (!host) return { ok: false, message: 'the pod has no IP address yet and the handler names no host' };
  const path = action.path ?? '';
  const target = path === '' ? '/' : escapeTarget(path.startsWith('/') ? path : `/${path}`);
  const headers: [string, string][] = (action.httpHeaders ?? []).map((h) => [canonicalHeaderName(h.name), h.value]);
  const has = (name: string) => headers.some(([n]) => n === name);
  if (!has('User-Agent')) headers.push(['User-Agent', userAgent]);
  if (!has('Accept')) headers.push(['Accept', '*/*']);
  // An empty Accept in the spec means "send none" (Go looks at the first value); so does an empty User-Agent.
  const silenced = new Set(['Accept', 'User-Agent'].filter((name) => headers.find(([n]) => n === name)?.[1] === ''));
  const sent = headers.filter(([n]) => !silenced.has(n));
  const url = `${scheme}://${joinHostPort(host, port.port)}${path === '' ? '' : target}`;
  return { ok: true, request: { scheme, host, port: port.port, target, headers: sent, url } };
}

/** Characters an HTTP request line cannot carry, percent-encoded; everything else as the user wrote it. */
function escapeTarget(path: string): string {
  return path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
}
