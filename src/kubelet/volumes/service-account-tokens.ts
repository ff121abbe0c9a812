/*
 * Service-account tokens for projected volumes, from the TokenRequest API, bound to the
 * pod (its name and UID), with the source's audience and expirationSeconds. Each token is
 * kept and handed out again until it is due: at 80 % of its life or after 24 hours,
 * whichever comes first, less a jitter of up to ten seconds so a node's pods do not all
 * ask at once (upstream's token manager). A refresh that fails keeps the old token while
 * it is valid; the volume is rewritten with the new one when it comes.
 */
import type { V1Pod, V1ServiceAccountTokenProjection } from '@kubernetes/client-node';
import { TskubeError } from '../../common/errors.js';
import type { RestClient } from '../../kube/rest-client.js';
import type { TokenResult } from './payload.js';

export interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string };
}

export interface IssuedToken {
  token: string;
  /** When it expires (ms since the epoch), as the TokenRequest's status says. */
  expiresAt: number;
  /** The lifetime the API server granted (spec.expirationSeconds of the answer). */
  expirationSeconds: number;
}

/** POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token. */
export type RequestToken = (namespace: string, serviceAccount: string, spec: TokenRequestSpec) => Promise<IssuedToken>;

const maxTtlMs = 24 * 3600_000;
const maxJitterMs = 10_000;
/** The API server's default for a projection that names none. */
export const defaultTokenExpirationSeconds = 3600;

/** Whether a token is due for renewal at `now` (upstream requiresRefresh). Pure. */
export function tokenNeedsRefresh(t: IssuedToken, now: number, jitterMs: number, refreshFraction: number): boolean {
  const issuedAt = t.expiresAt - t.expirationSeconds * 1000;
  if (now > issuedAt + maxTtlMs - jitterMs) return true;
  return now > issuedAt + t.expirationSeconds * 1000 * refreshFraction - jitterMs;
}

export interface ServiceAccountTokensOptions {
  /** Absent in standalone mode: every token request fails. */
  request?: RequestToken;
  now?: () => number;
  random?: () => number;
  /** When in a token's life it is renewed (0.8). */
  refreshFraction?: number;
}

interface Kept extends IssuedToken {
  podUid: string;
}

export class ServiceAccountTokens {
  readonly #o: ServiceAccountTokensOptions;
  readonly #kept = new Map<string, Kept>();
  /** How many TokenRequests were made (the benchmark counts them). */
  requests = 0;

  constructor(options: ServiceAccountTokensOptions) {
    this.#o = options;
  }

  /** The token for one projected source of the pod: kept, or requested when none is kept or it is due. */
  async token(pod: V1Pod, source: V1ServiceAccountTokenProjection): Promise<TokenResult> {
    const now = (this.#o.now ?? Date.now)();
    const namespace = pod.metadata?.namespace ?? 'default';
    const serviceAccount = pod.spec?.serviceAccountName || 'default';
    const spec: TokenRequestSpec = {
      audiences: source.audience ? [source.audience] : [],
      expirationSeconds: source.expirationSeconds ?? defaultTokenExpirationSeconds,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
    };
    const key = JSON.stringify([namespace, serviceAccount, spec]);
    const kept = this.#kept.get(key);
    const jitter = (this.#o.random ?? Math.random)() * maxJitterMs;
    if (kept && !tokenNeedsRefresh(kept, now, jitter, this.#o.refreshFraction ?? 0.8)) return { ok: true, token: kept.token };
    if (!this.#o.request) return { ok: false, message: 'cannot request a service account token: the kubelet runs standalone, without an API server' };
    try {
      this.requests++;
      const issued = await this.#o.request(namespace, serviceAccount, spec);
      this.#kept.set(key, { ...issued, podUid: spec.boundObjectRef.uid });
      return { ok: true, token: issued.token };
    } catch (err) {
      const why = TskubeError.from(err).detail;
      if (!kept) return { ok: false, message: `failed to fetch token: ${why}` };
      if (now > kept.expiresAt) return { ok: false, message: `token of service account ${namespace}/${serviceAccount} expired and refresh failed: ${why}` };
      // Still valid: keep handing it out; the next sync asks again.
      return { ok: true, token: kept.token };
    }
  }

  /** Drops the tokens bound to a pod that is gone. */
  forget(podUid: string): void {
    for (const [k, t] of this.#kept) if (t.podUid === podUid) this.#kept.delete(k);
  }
}

interface TokenRequestReply {
  spec?: { expirationSeconds?: number };
  status?: { token?: string; expirationTimestamp?: string };
}

/** TokenRequest through the kubelet's REST client (the Node authorizer allows it for its pods' service accounts). */
export function restTokenRequest(rest: RestClient): RequestToken {
  return async (namespace, serviceAccount, spec) => {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
    const reply = await rest.request<TokenRequestReply>('POST', path, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec } });
    const token = reply?.status?.token;
    const expiresAt = Date.parse(reply?.status?.expirationTimestamp ?? '');
    if (!token || Number.isNaN(expiresAt)) throw new TskubeError('internal', `${path}: the answer has no token or expiration time`);
    return { token, expiresAt, expirationSeconds: reply.spec?.expirationSeconds ?? spec.expirationSeconds };
  };
}
