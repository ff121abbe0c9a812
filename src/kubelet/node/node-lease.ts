// Keeps kube-node-lease/<node> renewed: the heartbeat the node lifecycle controller
// watches. As upstream's lease controller: renew from the last lease we wrote (no GET)
// and fall back to get-or-create on a conflict or failure; back off between failed
// attempts; never give up while the signal is live, so an apiserver away for a minute
// finds the lease renewed as soon as it is back.
//
//   [ensure] ── got / created ──► [renew] ── ok ──► sleep renewInterval ──► [renew]
//      ▲  └─ failed: back off ─┐     │
//      └───────────────────────┴─────┴── conflict, or 5 failed tries ──► [ensure]
import { TskubeError } from '../../common/errors.js';
import { backoffDelay } from '../../common/backoff.js';
import type { Logger } from '../../common/logger.js';
import { leaseNeedsOwner, newLease, nodeLeaseNamespace, nodeOwnerReference, renewedLease, renewIntervalMs, type LeaseInputs } from './lease-plan.js';
import { sleep } from '../../common/sleep.js';
import { leaseBackoff } from './loop-timing.js';
import { isAlreadyExists, isConflict, type NodeApi } from './node-api.js';
import type { Lease, OwnerReference } from './node-wire.js';

export interface NodeLeaseOptions {
  api: NodeApi;
  nodeName: string;
  /** nodeLeaseDurationSeconds; upstream default 40. */
  leaseDurationSeconds?: number;
  /** Defaults to 0.25 × the duration (10 s for 40 s). */
  renewIntervalMs?: number;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
}

/** Upstream's maxUpdateRetries: tries of one renewal before falling back to get-or-create. */
const MAX_UPDATE_TRIES = 5;

export class NodeLease {
  readonly nodeName: string;
  readonly leaseDurationSeconds: number;
  readonly renewIntervalMs: number;
  /** Resolves at the first successful renewal (or creation). */
  readonly ready: Promise<void>;
  readonly #api: NodeApi;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #random: () => number;
  #latest: Lease | undefined;
  #failing = false;
  #resolveReady!: () => void;

  constructor(options: NodeLeaseOptions) {
    this.#api = options.api;
    this.nodeName = options.nodeName;
    this.leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
    if (!(this.leaseDurationSeconds > 0))
      throw new TskubeError('invalid-argument', `nodeLeaseDurationSeconds: invalid value ${this.leaseDurationSeconds}: must be > 0`);
    this.renewIntervalMs = options.renewIntervalMs ?? renewIntervalMs(this.leaseDurationSeconds);
    this.#log = options.logger.child({ component: 'node-lease', lease: `${nodeLeaseNamespace}/${options.nodeName}` });
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
  }

  /** The lease as last written by us, if any. */
  get lease(): Lease | undefined {
    return this.#latest;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.sync(signal);
      await sleep(this.renewIntervalMs, signal);
    }
  }

  /** One heartbeat: renew, falling back to get-or-create; returns when done or aborted. */
  async sync(signal: AbortSignal): Promise<void> {
    if (this.#latest && (await this.#retryRenew(this.#latest, signal))) return;
    const ensured = await this.#ensureWithBackoff(signal);
    if (!ensured || ensured.created) return;
    await this.#retryRenew(ensured.lease, signal);
  }

  async #retryRenew(base: Lease, signal: AbortSignal): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_UPDATE_TRIES && !signal.aborted; attempt++) {
      try {
        this.#latest = await this.#api.updateLease(renewedLease(base, await this.#inputs(base, signal)), signal);
        this.#succeeded();
        return true;
      } catch (err) {
        if (signal.aborted) return false;
        this.#failed('renewing the lease', err);
        // Someone else wrote the lease: read it again rather than retry a stale copy.
        if (isConflict(err)) {
          this.#latest = undefined;
          return false;
        }
        await sleep(backoffDelay(leaseBackoff, attempt, this.#random()), signal);
      }
    }
    this.#latest = undefined;
    return false;
  }

  async #ensureWithBackoff(signal: AbortSignal): Promise<{ lease: Lease; created: boolean } | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const existing = await this.#api.getLease(nodeLeaseNamespace, this.nodeName, signal);
        if (existing) return { lease: existing, created: false };
        try {
          this.#latest = await this.#api.createLease(newLease(await this.#inputs(undefined, signal)), signal);
        } catch (err) {
          // Made by another writer between our GET and POST: renew that one.
          if (isAlreadyExists(err)) continue;
          throw err;
        }
        this.#log.info({ renewIntervalMs: this.renewIntervalMs, leaseDurationSeconds: this.leaseDurationSeconds }, 'created node lease');
        this.#succeeded();
        return { lease: this.#latest, created: true };
      } catch (err) {
        if (signal.aborted) return undefined;
        this.#failed('getting or creating the lease', err);
        await sleep(backoffDelay(leaseBackoff, attempt, this.#random()), signal);
      }
    }
    return undefined;
  }

  async #inputs(lease: Lease | undefined, signal: AbortSignal): Promise<LeaseInputs> {
    let owner: OwnerReference | undefined;
    if (!lease || leaseNeedsOwner(lease)) {
      // The Node may not exist yet; the reference is added at a later renewal.
      const node = await this.#api.getNode(this.nodeName, signal).catch(() => undefined);
      owner = node ? nodeOwnerReference(node) : undefined;
    }
    return { nodeName: this.nodeName, leaseDurationSeconds: this.leaseDurationSeconds, now: this.#now(), owner };
  }

  #succeeded(): void {
    if (this.#failing) this.#log.info({ renewTime: this.#latest?.spec?.renewTime }, 'node lease renewal recovered');
    this.#failing = false;
    this.#resolveReady();
  }

  #failed(doing: string, err: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#log.warn({ err: TskubeError.from(err).message }, `node lease: ${doing} failed; backing off and retrying`);
  }
}
