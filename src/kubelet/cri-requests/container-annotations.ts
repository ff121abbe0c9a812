import type { V1Container, V1ContainerPort, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import {
  containerHashAnnotation,
  containerNameLabel,
  containerPortsAnnotation,
  containerPreStopHandlerAnnotation,
  containerRestartCountAnnotation,
  containerTerminationMessagePathAnnotation,
  containerTerminationMessagePolicyAnnotation,
  podNameLabel,
  podNamespaceLabel,
  podTerminationGracePeriodAnnotation,
  podUidLabel,
} from '../pods/labels.js';
import { containerSpecHash } from './container-hash.js';
import { goJson } from '../../common/go-json.js';

/** Upstream's key for metadata.deletionGracePeriodSeconds at container creation. */
export const podDeletionGracePeriodAnnotation = 'io.kubernetes.pod.deletionGracePeriod';

export const defaultTerminationMessagePath = '/dev/termination-log';
export const defaultTerminationMessagePolicy = 'File';

/** Labels on the sandbox: the pod's own plus the three keys the kubelet finds pods by. */
export function sandboxLabels(pod: V1Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [podNameLabel]: pod.metadata?.name ?? '',
    [podNamespaceLabel]: pod.metadata?.namespace ?? '',
    [podUidLabel]: pod.metadata?.uid ?? '',
  };
}

export function containerLabels(pod: V1Pod, container: V1Container): Record<string, string> {
  return {
    [podNameLabel]: pod.metadata?.name ?? '',
    [podNamespaceLabel]: pod.metadata?.namespace ?? '',
    [podUidLabel]: pod.metadata?.uid ?? '',
    [containerNameLabel]: container.name,
  };
}

function omitEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}

function portJson(p: V1ContainerPort) {
  const o = omitEmpty({ name: p.name, hostPort: p.hostPort });
  return { ...o, containerPort: p.containerPort, ...omitEmpty({ protocol: p.protocol, hostIP: p.hostIP }) };
}

function handlerJson(h: V1LifecycleHandler) {
  return omitEmpty({
    exec: h.exec ? omitEmpty({ command: h.exec.command }) : undefined,
    httpGet: h.httpGet
      ? {
          ...omitEmpty({ path: h.httpGet.path }),
          port: h.httpGet.port,
          ...omitEmpty({
            host: h.httpGet.host,
            scheme: h.httpGet.scheme,
            httpHeaders: h.httpGet.httpHeaders?.map((x) => ({ name: x.name, value: x.value })),
          }),
        }
      : undefined,
    tcpSocket: h.tcpSocket ? { port: h.tcpSocket.port, ...omitEmpty({ host: h.tcpSocket.host }) } : undefined,
    sleep: h.sleep ? { seconds: h.sleep.seconds } : undefined,
  });
}

/**
 * Annotations the kubelet reads back from a running container when the pod spec is not
 * at hand (after a restart, when killing an orphan): the spec hash, the restart count,
 * termination message settings, grace periods, the ports and the preStop handler.
 */
export function containerAnnotations(pod: V1Pod, container: V1Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [containerHashAnnotation]: containerSpecHash(container),
    [containerRestartCountAnnotation]: String(restartCount),
    [containerTerminationMessagePathAnnotation]: container.terminationMessagePath || defaultTerminationMessagePath,
    [containerTerminationMessagePolicyAnnotation]: container.terminationMessagePolicy || defaultTerminationMessagePolicy,
  };
  const deletionGrace = pod.metadata?.deletionGracePeriodSeconds;
  if (deletionGrace !== undefined && deletionGrace !== null) a[podDeletionGracePeriodAnnotation] = String(deletionGrace);
  const grace = pod.spec?.terminationGracePeriodSeconds;
  if (grace !== undefined && grace !== null) a[podTerminationGracePeriodAnnotation] = String(grace);
  const preStop = container.lifecycle?.preStop;
  if (preStop) a[containerPreStopHandlerAnnotation] = goJson(handlerJson(preStop));
  if (container.ports && container.ports.length > 0) a[containerPortsAnnotation] = goJson(container.ports.map(portJson));
  return a;
}
