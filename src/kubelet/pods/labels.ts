// Label and annotation keys the kubelet puts on CRI sandboxes and containers. They are
// the upstream kubelet's keys, so `crictl ps`/`crictl pods` show pods as usual and a
// kubelet restart (ours or upstream's) can adopt what is running.
export const podNameLabel = 'io.kubernetes.pod.name';
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
export const podUidLabel = 'io.kubernetes.pod.uid';
export const containerNameLabel = 'io.kubernetes.container.name';

export const containerHashAnnotation = 'io.kubernetes.container.hash';
export const containerRestartCountAnnotation = 'io.kubernetes.container.restartCount';
export const containerTerminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
export const containerTerminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
export const containerPreStopHandlerAnnotation = 'io.kubernetes.container.preStopHandler';
export const containerPortsAnnotation = 'io.kubernetes.container.ports';
export const podTerminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';
/** kubernetes.io/config.source: "api", "file" or "http", as upstream sets on pods. */
export const configSourceAnnotation = 'kubernetes.io/config.source';
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';
export const configHashAnnotation = 'kubernetes.io/config.hash';
export const configSeenAnnotation = 'kubernetes.io/config.seen';
