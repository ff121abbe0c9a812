// What the container runtime says about itself (CRI Version + Status), asked with a
// bounded deadline. A runtime that fails or hangs is not an exception here: it becomes
// `unreachable`, naming the call, the endpoint and how long it took, which the Ready
// condition then carries to `kubectl describe node`.
import { TskubeError } from '../../common/errors.js';
import { askVersion, type CriRuntime } from '../runtime/cri-runtime.js';
import type { NodeImage, RuntimeCondition, RuntimeFacts } from './node-facts.js';

/** The CRI calls the probe makes, as plain functions, so tests can stand in for a runtime. */
export interface RuntimeCalls {
  endpoint: string;
  version(options: { timeoutMs: number; signal: AbortSignal }): Promise<{ runtimeName: string; runtimeVersion: string }>;
  status(options: { timeoutMs: number; signal: AbortSignal }): Promise<{ conditions: { type: string; status: boolean; reason: string; message: string }[] }>;
  listImages(options: { timeoutMs: number; signal: AbortSignal }): Promise<NodeImage[]>;
}

export function criRuntimeCalls(client: CriRuntime): RuntimeCalls {
  return {
    endpoint: client.endpoint,
    version: (o) => askVersion(client, o),
    status: async (o) => {
      const reply = await client.runtime.call('Status', { verbose: false }, o);
      return { conditions: reply.status?.conditions ?? [] };
    },
    listImages: async (o) => {
      const { images } = await client.image.call('ListImages', {}, o);
      return images.map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: Number(i.size) }));
    },
  };
}

/** "Status call to unix:///… failed after 2.0s: unavailable: …" or "… hung: no answer within 2.0s". */
export function describeCallFailure(method: string, endpoint: string, elapsedMs: number, err: unknown): string {
  const e = TskubeError.from(err);
  const secs = `${(elapsedMs / 1000).toFixed(1)}s`;
  if (e.code === 'deadline-exceeded') return `${method} call to ${endpoint} hung: no answer within ${secs}`;
  return `${method} call to ${endpoint} failed after ${secs}: ${e.message}`;
}

const missing = (type: string): RuntimeCondition => ({ ok: false, reason: '', message: `the runtime did not report ${type}` });

/** RuntimeReady / NetworkReady from a Status reply; a missing condition counts as not ready (as upstream). */
export function runtimeConditions(
  conditions: { type: string; status: boolean; reason: string; message: string }[],
): Pick<RuntimeFacts, 'runtimeReady' | 'networkReady'> {
  const pick = (type: string): RuntimeCondition => {
    const c = conditions.find((x) => x.type === type);
    return c ? { ok: c.status, reason: c.reason, message: c.message } : missing(type);
  };
  return { runtimeReady: pick('RuntimeReady'), networkReady: pick('NetworkReady') };
}

/** "containerd://1.6.20~ds1", as nodeInfo.containerRuntimeVersion has it. */
export function runtimeVersionString(v: { runtimeName: string; runtimeVersion: string }): string {
  return `${v.runtimeName}://${v.runtimeVersion}`;
}

export interface RuntimeProbeOptions {
  calls: RuntimeCalls;
  /** Deadline of each call; a runtime slower than this counts as hung. */
  timeoutMs?: number;
}

/**
 * Asks the runtime each time `facts()` is called. Remembers the last version it heard,
 * so nodeInfo does not go blank while the runtime is away.
 */
export class RuntimeProbe {
  readonly calls: RuntimeCalls;
  readonly #timeoutMs: number;
  #lastVersion = '';
  #lastImages: NodeImage[] = [];

  constructor(options: RuntimeProbeOptions) {
    this.calls = options.calls;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  async facts(signal: AbortSignal): Promise<RuntimeFacts> {
    const down = (unreachable: string): RuntimeFacts => ({
      runtimeVersion: this.#lastVersion,
      unreachable,
      runtimeReady: { ok: false, reason: 'RuntimeUnreachable', message: unreachable },
      networkReady: { ok: false, reason: 'RuntimeUnreachable', message: unreachable },
    });
    const options = { timeoutMs: this.#timeoutMs, signal };
    // Status first: it is the health check, and the call a failure message should name.
    let started = Date.now();
    let conditions: Awaited<ReturnType<RuntimeCalls['status']>>['conditions'];
    try {
      ({ conditions } = await this.calls.status(options));
    } catch (err) {
      return down(describeCallFailure('Status', this.calls.endpoint, Date.now() - started, err));
    }
    started = Date.now();
    try {
      this.#lastVersion = runtimeVersionString(await this.calls.version(options));
    } catch (err) {
      return down(describeCallFailure('Version', this.calls.endpoint, Date.now() - started, err));
    }
    return { runtimeVersion: this.#lastVersion, ...runtimeConditions(conditions) };
  }

  /** The runtime's images; the last list when the runtime does not answer. */
  async images(signal: AbortSignal): Promise<NodeImage[]> {
    try {
      this.#lastImages = await this.calls.listImages({ timeoutMs: this.#timeoutMs, signal });
    } catch {
      // The Ready condition already says the runtime is away; keep the last list.
    }
    return this.#lastImages;
  }
}
