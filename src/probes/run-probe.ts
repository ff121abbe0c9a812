import type { V1Container, V1Probe } from '@kubernetes/client-node';
import type { CriRuntime } from '../kubelet/runtime/cri-runtime.js';
import { probeCommand, runExecProbe } from './exec-probe.js';
import { runGrpcProbe } from './grpc-probe.js';
import { runHttpProbe } from './http-probe.js';
import { errored, type ProbeOutcome } from './probe-outcome.js';
import { probeTimeoutSeconds } from './probe-settings.js';
import { runTcpProbe } from './tcp-probe.js';

/** The container a probe looks at. */
export interface ProbeTarget {
  container: V1Container;
  /** The runtime's container ID (no "containerd://"). */
  containerId: string;
  /** The pod's IP: where httpGet, tcpSocket and grpc go unless they name a host. */
  podIP: string;
}

/** Runs one probe handler once. */
export type ProbeRun = (probe: V1Probe, target: ProbeTarget, signal?: AbortSignal) => Promise<ProbeOutcome>;

/** A probe that could not run at all is tried this many times before upstream gives up on the round. */
const maxProbeRetries = 3;

/** The handler of a probe (exec, httpGet, tcpSocket, grpc) against one container. */
export function probeRunner(cri: CriRuntime): ProbeRun {
  const once = (probe: V1Probe, t: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> => {
    const timeoutSeconds = probeTimeoutSeconds(probe);
    const timeoutMs = timeoutSeconds * 1000;
    if (probe.exec) return runExecProbe(cri, t.containerId, probeCommand(probe.exec.command ?? [], t.container), timeoutSeconds, signal);
    if (probe.httpGet) return runHttpProbe(probe.httpGet, t.container, t.podIP, timeoutMs, signal);
    if (probe.tcpSocket) return runTcpProbe(probe.tcpSocket, t.container, t.podIP, timeoutMs, signal);
    if (probe.grpc && !t.podIP) return Promise.resolve(errored('the pod has no IP address yet'));
    if (probe.grpc) return runGrpcProbe(t.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs, signal);
    return Promise.resolve(errored(`missing probe handler for container ${JSON.stringify(t.container.name)}: none of exec, httpGet, tcpSocket, grpc`));
  };
  return async (probe, target, signal) => {
    let outcome = await once(probe, target, signal);
    for (let i = 1; i < maxProbeRetries && outcome.error !== undefined && !signal?.aborted; i++) outcome = await once(probe, target, signal);
    return outcome;
  };
}
