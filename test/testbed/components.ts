// Command lines of the control plane components, as kubeadm would write them
// into static pod manifests, adapted to one host: on loopback, or (--netns) on the
// address of the testbed's own network namespace, with etcd on that namespace's loopback.
import type { Pki } from './pki.ts';

export interface Layout {
  pki: Pki;
  etcdDataDir: string;
  certDir: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number };
  kubeconfigs: { controllerManager: string; scheduler: string };
  serviceCIDR: string;
  podCIDR: string;
  clusterDomain: string;
  /** Where the apiserver, controller manager and scheduler listen; the apiserver's advertise address. */
  address: string;
  /** The address is a real, routed one: the apiserver keeps the `kubernetes` Endpoints itself. */
  routed: boolean;
}

const loopback = '127.0.0.1';
export const etcdMetricsPort = 2381;

/** Where `up` asks etcd for /health. */
export const etcdHealthUrl = (l: Layout) => (l.routed ? `http://${l.address}:${etcdMetricsPort}/health` : `http://${loopback}:${l.ports.etcdClient}/health`);

export function etcdArgs(l: Layout): string[] {
  const client = `http://${loopback}:${l.ports.etcdClient}`;
  const peer = `http://${loopback}:${l.ports.etcdPeer}`;
  return [
    '--name=testbed',
    `--data-dir=${l.etcdDataDir}`,
    // Plain HTTP: nothing but this host's loopback can reach it, and the
    // testbed is thrown away after the run.
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=testbed=${peer}`,
    '--initial-cluster-state=new',
    // In a namespace of its own, etcd's data stays on that namespace's loopback; its
    // /health (and metrics) go on the routed address, for `up` to check from the host.
    ...(l.routed ? [`--listen-metrics-urls=http://${l.address}:${etcdMetricsPort}`] : []),
    // The data dies with the testbed; fsync would only make every write in
    // every test wait for the disk.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiserverArgs(l: Layout): string[] {
  const p = l.pki;
  return [
    `--etcd-servers=http://${loopback}:${l.ports.etcdClient}`,
    `--bind-address=${l.address}`,
    `--advertise-address=${l.address}`,
    `--secure-port=${l.ports.apiserver}`,
    `--cert-dir=${l.certDir}`,
    `--tls-cert-file=${p.apiserver.cert}`,
    `--tls-private-key-file=${p.apiserver.key}`,
    `--client-ca-file=${p.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    '--enable-bootstrap-token-auth=true',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--service-cluster-ip-range=${l.serviceCIDR}`,
    // A loopback address is refused in Endpoints ("may not be in the loopback
    // range"), so on loopback the default lease reconciler would fail every few
    // seconds and the `kubernetes` Service simply has no endpoints.
    ...(l.routed ? [] : ['--endpoint-reconciler-type=none']),
    // So `kubectl logs/exec` reach a kubelet, and verify it is the one the
    // cluster CA issued a serving cert to.
    `--kubelet-client-certificate=${p.apiserverKubeletClient.cert}`,
    `--kubelet-client-key=${p.apiserverKubeletClient.key}`,
    `--kubelet-certificate-authority=${p.ca.cert}`,
    '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
    `--service-account-issuer=https://kubernetes.default.svc.${l.clusterDomain}`,
    `--service-account-key-file=${p.serviceAccount.pub}`,
    `--service-account-signing-key-file=${p.serviceAccount.key}`,
    // The aggregation layer's identity (front proxy), as kubeadm configures it.
    `--requestheader-client-ca-file=${p.frontProxyCa.cert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${p.frontProxyClient.cert}`,
    `--proxy-client-key-file=${p.frontProxyClient.key}`,
    '--profiling=false',
  ];
}

// The flags both the controller manager and the scheduler take to serve
// their own HTTPS endpoint and authenticate its callers through the apiserver.
function servingArgs(kubeconfig: string, port: number, l: Layout): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--client-ca-file=${l.pki.ca.cert}`,
    `--requestheader-client-ca-file=${l.pki.frontProxyCa.cert}`,
    `--bind-address=${l.address}`,
    `--secure-port=${port}`,
    // One instance; an election would only delay the start by a lease.
    '--leader-elect=false',
    '--profiling=false',
  ];
}

export function controllerManagerArgs(l: Layout): string[] {
  const p = l.pki;
  return [
    ...servingArgs(l.kubeconfigs.controllerManager, l.ports.controllerManager, l),
    `--cert-dir=${l.certDir}`,
    // Default controllers (CSR signing and approving, endpointslice,
    // serviceaccount, namespace, garbage collector, deployment, replicaset,
    // node lifecycle, ...) plus the two bootstrap token ones kubeadm adds.
    '--controllers=*,bootstrapsigner,tokencleaner',
    `--cluster-signing-cert-file=${p.ca.cert}`,
    `--cluster-signing-key-file=${p.ca.key}`,
    `--root-ca-file=${p.ca.cert}`,
    `--service-account-private-key-file=${p.serviceAccount.key}`,
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${l.serviceCIDR}`,
    // Nodes get spec.podCIDR, as on a kubeadm cluster with --pod-network-cidr.
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${l.podCIDR}`,
    '--node-cidr-mask-size=24',
    '--cluster-name=tskube-testbed',
  ];
}

export function schedulerArgs(l: Layout): string[] {
  return servingArgs(l.kubeconfigs.scheduler, l.ports.scheduler, l);
}
