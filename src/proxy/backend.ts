// What every back end (nftables, iptables, IPVS) offers the proxy's one writer: sync the
// kernel to the plans of the service ports, fully or for the changed ports only, and
// clean up. Back ends keep their own idea of what the kernel holds; a failed sync must
// leave the previous rules in place and make the next sync a full one.
import type { ServicePort } from './model/service-port.js';
import type { ProxyNodeConfig } from './plan/node-config.js';
import type { ServicePortPlan } from './plan/service-port-plan.js';

export interface SyncRequest {
  /** Rewrite everything; otherwise only `plans` changed. */
  full: boolean;
  config: ProxyNodeConfig;
  /** Full: every service port. Partial: the changed ports (undefined: the port is gone). */
  plans: ReadonlyMap<string, ServicePortPlan | undefined>;
  /** ms since the epoch; the back end takes no other clock reading for its decisions. */
  now: number;
}

export interface SyncResult {
  /** The sync wrote this much, and kernelMs: how long the command that wrote it took (for logs and benchmarks). */
  detail: Record<string, number | string | boolean>;
}

export interface ProxyBackend {
  readonly mode: 'nftables' | 'iptables' | 'ipvs';
  /** Throws when the back end cannot work here (a missing kernel module, binary or table). */
  checkSupport(signal?: AbortSignal): Promise<void>;
  sync(request: SyncRequest, signal?: AbortSignal): Promise<SyncResult>;
  /** A Service's ports were read (it arrived or changed): what the back end derives from a port alone is made now, outside the sync. */
  portsRead?(ports: readonly ServicePort[]): void;
  /** Removes everything this back end creates, in both families; returns what it removed. */
  cleanup(signal?: AbortSignal): Promise<string[]>;
}

/** The failure counters each back end reports under upstream's metric names. */
export interface BackendFailureCounters {
  syncFailed(): void;
  cleanupFailed(): void;
}
