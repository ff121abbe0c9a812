// Reports the Node's status (upstream syncNodeStatus / tryUpdateNodeStatus): every
// nodeStatusUpdateFrequency, compute the status from the machine and the runtime, and
// patch nodes/<name>/status when it changed or nodeStatusReportFrequency has passed.
// One log line when Ready flips, one when reporting starts failing and one when it
// recovers; nothing per tick.
import { TskubeError } from '../../common/errors.js';
import { backoffDelay, type BackoffPolicy } from '../../common/backoff.js';
import type { Logger } from '../../common/logger.js';
import { buildNodeStatus, readyCondition } from './build-node.js';
import { sleep } from '../../common/sleep.js';
import type { NodeApi } from './node-api.js';
import type { NodeFacts, NodeImage, RuntimeFacts } from './node-facts.js';
import type { NodeSettings } from './node-settings.js';
import type { Node, NodeCondition, NodeStatus } from './node-wire.js';
import { planStatusReport } from './status-report-plan.js';

export interface NodeStatusReporterOptions {
  api: NodeApi;
  settings: NodeSettings;
  /** The machine's facts (NodeFactsGatherer.gather). */
  facts: (signal: AbortSignal) => Promise<NodeFacts>;
  /** The runtime's answer (RuntimeProbe.facts); must not throw for an unreachable runtime. */
  runtime: (signal: AbortSignal) => Promise<RuntimeFacts>;
  /** The images on the node (RuntimeProbe.images). */
  images: (signal: AbortSignal) => Promise<NodeImage[]>;
  /** Notes for the Ready condition's message (a serving certificate waiting for approval). */
  notes?: () => string[];
  /** The eviction manager's node conditions. */
  pressure?: () => { memory: boolean; disk: boolean; pid: boolean };
  /** A graceful node shutdown is under way. */
  shuttingDown?: () => boolean;
  /** nodeStatusUpdateFrequency; upstream default 10 s. */
  updateFrequencyMs?: number;
  /** nodeStatusReportFrequency; upstream default 5 min. */
  reportFrequencyMs?: number;
  logger: Logger;
  now?: () => Date;
  random?: () => number;
}

export type SyncResult = 'patched' | 'unchanged';

export class NodeStatusReporter {
  readonly updateFrequencyMs: number;
  readonly reportFrequencyMs: number;
  /** Resolves at the first successful report. */
  readonly ready: Promise<void>;
  readonly #o: NodeStatusReporterOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #backoff: BackoffPolicy;
  #lastReportAt: number | undefined;
  #lastReady: NodeCondition | undefined;
  #lastStatus: NodeStatus | undefined;
  #lastNode: Node | undefined;
  #failures = 0;
  #resolveReady!: () => void;

  constructor(options: NodeStatusReporterOptions) {
    this.#o = options;
    this.updateFrequencyMs = options.updateFrequencyMs ?? 10_000;
    this.reportFrequencyMs = options.reportFrequencyMs ?? 300_000;
    if (!(this.updateFrequencyMs > 0))
      throw new TskubeError('invalid-argument', `nodeStatusUpdateFrequency: invalid value ${this.updateFrequencyMs} ms: must be > 0`);
    this.#log = options.logger.child({ component: 'node-status', node: options.settings.nodeName });
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#backoff = { initialMs: Math.min(1_000, this.updateFrequencyMs), maxMs: this.updateFrequencyMs, factor: 2, jitter: 0.2 };
    this.ready = new Promise((resolve) => (this.#resolveReady = resolve));
  }

  /** The Node as last read from (or written to) the apiserver: its labels and taints for admission. */
  get node(): Node | undefined {
    return this.#lastNode;
  }

  /** The status as last patched (or found unchanged) on the apiserver. */
  get status(): NodeStatus | undefined {
    return this.#lastStatus;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let delayMs = this.updateFrequencyMs;
      try {
        await this.sync(signal);
        if (this.#failures > 0) this.#log.info({ failures: this.#failures }, 'node status reporting recovered');
        this.#failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        delayMs = backoffDelay(this.#backoff, this.#failures, this.#random());
        if (this.#failures === 0) this.#log.warn({ err: TskubeError.from(err).message, retryInMs: delayMs }, 'unable to update node status; retrying');
        this.#failures++;
      }
      await sleep(delayMs, signal);
    }
  }

  /** One round: observe, plan, patch if due. Throws when the apiserver or the machine fails. */
  async sync(signal: AbortSignal): Promise<SyncResult> {
    const name = this.#o.settings.nodeName;
    const [facts, runtime, images, node] = await Promise.all([
      this.#o.facts(signal),
      this.#o.runtime(signal),
      this.#o.images(signal),
      this.#o.api.getNode(name, signal).catch((err: unknown) => {
        throw TskubeError.from(err).wrap(`reading node ${name}`);
      }),
    ]);
    if (!node) throw new TskubeError('not-found', `node ${name} does not exist on the apiserver (deleted after registration?)`);
    this.#lastNode = node;
    const now = this.#now();
    const ours = buildNodeStatus({
      facts,
      runtime,
      settings: this.#o.settings,
      images,
      now,
      previous: node.status,
      notes: this.#o.notes?.(),
      pressure: this.#o.pressure?.(),
      shuttingDown: this.#o.shuttingDown?.(),
    });
    const plan = planStatusReport({
      current: node.status,
      ours,
      lastReportAt: this.#lastReportAt,
      now: now.getTime(),
      reportFrequencyMs: this.reportFrequencyMs,
    });
    if (plan.kind === 'skip') {
      this.#noteReady(node.status);
      return 'unchanged';
    }
    const updated = await this.#o.api.patchNodeStatus(name, plan.patch, signal).catch((err: unknown) => {
      throw TskubeError.from(err).wrap(`patching node ${name} status`);
    });
    this.#lastReportAt = now.getTime();
    this.#noteReady(updated.status ?? plan.status);
    this.#resolveReady();
    return 'patched';
  }

  #noteReady(status: NodeStatus | undefined): void {
    this.#lastStatus = status;
    const ready = readyCondition(status);
    if (!ready) return;
    const before = this.#lastReady;
    this.#lastReady = ready;
    if (before?.status === ready.status && before.message === ready.message) return;
    const fields = { ready: ready.status, reason: ready.reason, message: ready.message };
    if (ready.status === 'True') this.#log.info(fields, before ? 'node became ready' : 'node is ready');
    else this.#log.warn(fields, before?.status === 'False' ? 'node still not ready, for another reason' : 'node became not ready');
  }
}
