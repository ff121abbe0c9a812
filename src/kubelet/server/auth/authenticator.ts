/*
 * Who is asking (upstream's delegating authenticator, as the kubelet configures it):
 *
 *   client certificate verified against authentication.x509.clientCAFile ─► CN as the
 *        │ none                                                         user, O as groups
 *        ▼
 *   Authorization: Bearer <token>, authentication.webhook.enabled ─► TokenReview
 *        │ none                                (answers kept for webhook.cacheTTL)
 *        ▼
 *   authentication.anonymous.enabled ─► system:anonymous, else 401
 *
 * A certificate the client CA did not sign never gets here: the TLS layer drops the
 * connection (kubelet-server.ts). A token the API server rejects is a 401, not anonymous.
 */
import { TskubeError } from '../../../common/errors.js';
import { TtlCache } from './ttl-cache.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export type Authentication = { ok: true; user: UserInfo; method: 'x509' | 'token' | 'anonymous' } | { ok: false; why: string };

export interface Credentials {
  /** The subject of a client certificate the TLS layer verified. */
  certificate?: { commonName: string; organizations: string[] } | undefined;
  /** The Authorization header, if any. */
  authorization?: string | undefined;
}

/** POSTs a review object to the API server and returns the answer (RestClient does it). */
export type ReviewApi = <T>(path: string, body: object) => Promise<T>;

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

export interface AuthenticatorOptions {
  anonymous: boolean;
  /** Set when authentication.webhook.enabled and the kubelet has an API server. */
  tokenReview?: { api: ReviewApi; cacheTtlMs: number } | undefined;
  now?: () => number;
}

const authenticated = 'system:authenticated';

export class Authenticator {
  readonly #o: AuthenticatorOptions;
  readonly #tokens: TtlCache<Authentication>;

  constructor(options: AuthenticatorOptions) {
    this.#o = options;
    this.#tokens = new TtlCache(options.now ? { now: options.now } : {});
  }

  async authenticate(c: Credentials): Promise<Authentication> {
    if (c.certificate) {
      const groups = [...c.certificate.organizations, authenticated];
      return { ok: true, method: 'x509', user: { name: c.certificate.commonName, groups } };
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.authorization ?? '')?.[1];
    if (token !== undefined) {
      if (!this.#o.tokenReview) return { ok: false, why: 'bearer token given, but token authentication (authentication.webhook) is off' };
      return this.#reviewToken(token, this.#o.tokenReview);
    }
    if (this.#o.anonymous) return { ok: true, method: 'anonymous', user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } };
    return { ok: false, why: 'no client certificate or bearer token, and anonymous requests are off' };
  }

  async #reviewToken(token: string, review: NonNullable<AuthenticatorOptions['tokenReview']>): Promise<Authentication> {
    const cached = this.#tokens.get(token);
    if (cached) return cached;
    let status: TokenReviewStatus | undefined;
    try {
      const answer = await review.api<{ status?: TokenReviewStatus }>('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
      status = answer.status;
    } catch (err) {
      // Not cached: the next request asks again.
      return { ok: false, why: `TokenReview failed: ${TskubeError.from(err).message}` };
    }
    const result: Authentication =
      status?.authenticated && status.user?.username
        ? {
            ok: true,
            method: 'token',
            user: {
              name: status.user.username,
              groups: [...new Set([...(status.user.groups ?? []), authenticated])],
              ...(status.user.uid ? { uid: status.user.uid } : {}),
              ...(status.user.extra ? { extra: status.user.extra } : {}),
            },
          }
        : { ok: false, why: `the API server did not accept the bearer token${status?.error ? `: ${status.error}` : ''}` };
    this.#tokens.set(token, result, review.cacheTtlMs);
    return result;
  }
}
