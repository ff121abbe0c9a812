// The NetworkReady condition when the kubelet manages pod networking, from what the pod
// network last found, and how it joins the runtime's own report for the Node's Ready
// condition. Words as containerd's (reason NetworkPluginNotReady, "Network plugin returns
// error: ..."), so `kubectl describe node` reads the same with either owner. Pure.
import type { RuntimeCondition, RuntimeFacts } from '../node/node-facts.js';

export interface NetworkHealth {
  /** No network config can be used (and none was in force before). */
  noNetwork?: string | undefined;
  /** The runtime will not call the shim: its config is not first, or the shim is not installed. */
  runtime?: string | undefined;
  /** The Node has no pod CIDR yet although the chain takes one. */
  podCidr?: string | undefined;
  /** STATUS of the network in force failed (CNI 1.1 plugins), with the plugin's words. */
  status?: string | undefined;
}

export const networkNotReadyReason = 'NetworkPluginNotReady';

export function networkCondition(h: NetworkHealth): RuntimeCondition {
  const problem = h.noNetwork ?? h.runtime ?? h.podCidr ?? h.status;
  if (problem === undefined) return { ok: true, reason: '', message: '' };
  return { ok: false, reason: networkNotReadyReason, message: `Network plugin returns error: ${problem}` };
}

/** The runtime's facts with the kubelet's network condition in force when it is not ready (the runtime's otherwise). */
export function withNetworkCondition(facts: RuntimeFacts, network: RuntimeCondition | undefined): RuntimeFacts {
  if (!network || network.ok || facts.unreachable !== undefined) return facts;
  return { ...facts, networkReady: network };
}
