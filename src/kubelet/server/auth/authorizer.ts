/*
 * May this user do this (upstream's delegating authorizer): `AlwaysAllow`, or `Webhook`,
 * which asks the API server with a SubjectAccessReview and keeps allowed answers for
 * authorization.webhook.cacheAuthorizedTTL and denied ones for cacheUnauthorizedTTL.
 * Without an API server (standalone) the webhook cannot be asked and everything is denied.
 */
import { TskubeError } from '../../../common/errors.js';
import type { ReviewApi, UserInfo } from './authenticator.js';
import type { NodeAttributes } from './request-attributes.js';
import { TtlCache } from './ttl-cache.js';

export type Decision = { allowed: true } | { allowed: false; reason: string } | { allowed: false; error: string };

export interface AuthorizerOptions {
  mode: 'AlwaysAllow' | 'Webhook';
  webhook?: { api: ReviewApi; allowedTtlMs: number; deniedTtlMs: number } | undefined;
  now?: () => number;
}

interface SarStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export class Authorizer {
  readonly #o: AuthorizerOptions;
  readonly #cache: TtlCache<Decision>;

  constructor(options: AuthorizerOptions) {
    this.#o = options;
    this.#cache = new TtlCache(options.now ? { now: options.now } : {});
  }

  async authorize(user: UserInfo, a: NodeAttributes): Promise<Decision> {
    if (this.#o.mode === 'AlwaysAllow') return { allowed: true };
    const webhook = this.#o.webhook;
    if (!webhook) return { allowed: false, reason: 'authorization mode Webhook needs the API server, and the kubelet runs standalone' };
    const spec = {
      user: user.name,
      groups: user.groups,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.extra ? { extra: user.extra } : {}),
      resourceAttributes: { verb: a.verb, group: '', version: a.apiVersion, resource: a.resource, subresource: a.subresource, name: a.name },
    };
    const key = JSON.stringify(spec);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let status: SarStatus | undefined;
    try {
      status = (
        await webhook.api<{ status?: SarStatus }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec,
        })
      ).status;
    } catch (err) {
      return { allowed: false, error: `SubjectAccessReview failed: ${TskubeError.from(err).message}` };
    }
    const decision: Decision = status?.allowed ? { allowed: true } : { allowed: false, reason: status?.reason || status?.evaluationError || '' };
    this.#cache.set(key, decision, decision.allowed ? webhook.allowedTtlMs : webhook.deniedTtlMs);
    return decision;
  }
}
