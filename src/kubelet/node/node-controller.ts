// The Node's side of the kubelet: register, then keep the lease and the status fresh.
// The lease starts at once (upstream starts it beside registration; the owner
// reference to the Node is added once the Node exists); status reports start once the
// Node is registered.
import { TskubeError } from '../../common/errors.js';
import type { CriRuntime } from '../runtime/cri-runtime.js';
import type { Logger } from '../../common/logger.js';
import type { Kubeconfig } from '../../kube/kubeconfig.js';
import { RestClient } from '../../kube/rest-client.js';
import type { KubeletOptions } from '../options/kubelet-options.js';
import { buildNode, buildNodeStatus } from './build-node.js';
import { NodeFactsGatherer } from './gather-node-facts.js';
import { restNodeApi, type NodeApi } from './node-api.js';
import type { NodeFacts, NodeImage, RuntimeCondition, RuntimeFacts } from './node-facts.js';
import { NodeLease } from './node-lease.js';
import { registerNode } from './node-registration.js';
import { nodeSettingsFromOptions, type NodeSettings } from './node-settings.js';
import { NodeStatusReporter } from './node-status.js';
import type { Node } from './node-wire.js';
import { criRuntimeCalls, RuntimeProbe } from './runtime-facts.js';
import { withNetworkCondition } from '../network/network-condition.js';

export interface NodeControllerOptions {
  api: NodeApi;
  settings: NodeSettings;
  facts: (signal: AbortSignal) => Promise<NodeFacts>;
  runtime: (signal: AbortSignal) => Promise<RuntimeFacts>;
  images: (signal: AbortSignal) => Promise<NodeImage[]>;
  /** Notes for the Ready condition's message. */
  notes?: () => string[];
  /** The eviction manager's node conditions. */
  pressure?: () => { memory: boolean; disk: boolean; pid: boolean };
  /** A graceful node shutdown is under way. */
  shuttingDown?: () => boolean;
  /** registerNode: false = the Node is made by someone else; only lease and status. */
  registerNode?: boolean;
  /** nodeLeaseDurationSeconds (40). */
  leaseDurationSeconds?: number;
  /** nodeStatusUpdateFrequency (10 s) and nodeStatusReportFrequency (5 min). */
  statusUpdateFrequencyMs?: number;
  statusReportFrequencyMs?: number;
  /** Renewal interval; 0.25 × the lease duration unless set (tests). */
  leaseRenewIntervalMs?: number;
  logger: Logger;
}

export class NodeController {
  readonly lease: NodeLease;
  readonly status: NodeStatusReporter;
  /** Resolves with the Node once it is registered (at once with registerNode: false). */
  readonly ready: Promise<Node | undefined>;
  /** Settles when run() returns. */
  readonly done: Promise<void>;
  /** Why run() failed, if it did. */
  err: TskubeError | undefined;
  readonly #o: NodeControllerOptions;
  readonly #log: Logger;
  #resolveReady!: (node: Node | undefined) => void;
  #rejectReady!: (err: unknown) => void;
  #resolveDone!: () => void;

  constructor(options: NodeControllerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'node', node: options.settings.nodeName });
    this.lease = new NodeLease({
      api: options.api,
      nodeName: options.settings.nodeName,
      logger: options.logger,
      ...(options.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: options.leaseDurationSeconds } : {}),
      ...(options.leaseRenewIntervalMs !== undefined ? { renewIntervalMs: options.leaseRenewIntervalMs } : {}),
    });
    this.status = new NodeStatusReporter({
      api: options.api,
      settings: options.settings,
      facts: options.facts,
      runtime: options.runtime,
      images: options.images,
      logger: options.logger,
      ...(options.notes ? { notes: options.notes } : {}),
      ...(options.pressure ? { pressure: options.pressure } : {}),
      ...(options.shuttingDown ? { shuttingDown: options.shuttingDown } : {}),
      ...(options.statusUpdateFrequencyMs !== undefined ? { updateFrequencyMs: options.statusUpdateFrequencyMs } : {}),
      ...(options.statusReportFrequencyMs !== undefined ? { reportFrequencyMs: options.statusReportFrequencyMs } : {}),
    });
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  async run(signal: AbortSignal): Promise<void> {
    const lease = this.lease.run(signal);
    try {
      const node =
        this.#o.registerNode === false
          ? undefined
          : await registerNode({ api: this.#o.api, buildNode: (s) => this.#initialNode(s), logger: this.#log }, signal);
      this.#resolveReady(node);
      await this.status.run(signal);
    } catch (err) {
      this.err = TskubeError.from(err);
      this.#rejectReady(this.err);
      if (!(signal.aborted && this.err.code === 'canceled')) throw this.err;
    } finally {
      await lease;
      this.#resolveDone();
    }
  }

  /** The Node to create, with a first status (upstream initialNode → setNodeStatus). */
  async #initialNode(signal: AbortSignal): Promise<Node> {
    const [facts, runtime, images] = await Promise.all([this.#o.facts(signal), this.#o.runtime(signal), this.#o.images(signal)]);
    return buildNode(
      facts,
      this.#o.settings,
      buildNodeStatus({ facts, runtime, settings: this.#o.settings, images, now: new Date(), pressure: this.#o.pressure?.() }),
    );
  }
}

export interface NodeControllerDeps {
  /** The kubelet's kubeconfig (its node credentials). */
  kubeConfig: Kubeconfig;
  /** The container runtime the kubelet uses (runtime and image services). */
  cri: CriRuntime;
  /** nodeInfo.kubeletVersion, e.g. "v1.36.3". */
  kubeletVersion: string;
  logger: Logger;
  /** Deadline of each CRI call the status makes; default 5 s. */
  runtimeProbeTimeoutMs?: number;
  /** Notes for the Ready condition's message (the serving certificate's state). */
  notes?: () => string[];
  /** The machine's facts, shared with the rest of the kubelet; a gatherer of its own when absent. */
  facts?: () => Promise<NodeFacts>;
  /** The eviction manager's node conditions. */
  pressure?: () => { memory: boolean; disk: boolean; pid: boolean };
  /** A graceful node shutdown is under way. */
  shuttingDown?: () => boolean;
  /** NetworkReady when the kubelet manages pod networking; it wins over the runtime's when not ready. */
  networkReady?: () => RuntimeCondition;
}

/** A NodeController from the resolved kubelet options; throws invalid-argument for a bad reservation or threshold. */
export function nodeControllerFromOptions(options: KubeletOptions, deps: NodeControllerDeps): NodeController {
  const settings = nodeSettingsFromOptions(options, deps.kubeletVersion);
  const gatherer = new NodeFactsGatherer({ rootDir: options.rootDir, detectHostIPs: options.nodeIPs.length === 0 });
  const probe = new RuntimeProbe({
    calls: criRuntimeCalls(deps.cri),
    ...(deps.runtimeProbeTimeoutMs !== undefined ? { timeoutMs: deps.runtimeProbeTimeoutMs } : {}),
  });
  const c = options.config;
  return new NodeController({
    api: restNodeApi(new RestClient(deps.kubeConfig, { userAgent: `tskube-kubelet/${deps.kubeletVersion}` })),
    settings,
    facts: deps.facts ?? (() => gatherer.gather()),
    ...(deps.pressure ? { pressure: deps.pressure } : {}),
    ...(deps.shuttingDown ? { shuttingDown: deps.shuttingDown } : {}),
    runtime: async (s) => withNetworkCondition(await probe.facts(s), deps.networkReady?.()),
    images: (s) => probe.images(s),
    registerNode: c.registerNode,
    leaseDurationSeconds: c.nodeLeaseDurationSeconds,
    statusUpdateFrequencyMs: c.nodeStatusUpdateFrequency,
    statusReportFrequencyMs: c.nodeStatusReportFrequency,
    logger: deps.logger,
    ...(deps.notes ? { notes: deps.notes } : {}),
  });
}
