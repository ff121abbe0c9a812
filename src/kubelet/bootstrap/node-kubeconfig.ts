import { stringify } from 'yaml';

// The kubeconfig the kubelet writes at --kubeconfig after bootstrapping, with the
// names upstream uses (default-cluster, default-auth, default-context). It points at
// kubelet-client-current.pem rather than embedding it, so a rotated certificate is
// picked up without rewriting the file.

export interface NodeKubeconfigSpec {
  server: string;
  /** Base64 PEM of the cluster CA, as in certificate-authority-data. */
  caData?: string;
  /** A CA file path, when the bootstrap kubeconfig named one instead of embedding it. */
  caFile?: string;
  tlsServerName?: string;
  insecureSkipTLSVerify?: boolean;
  /** Certificate and key, both in the one PEM file upstream writes. */
  clientPairFile: string;
}

export function renderNodeKubeconfig(spec: NodeKubeconfigSpec): string {
  const cluster: Record<string, unknown> = { server: spec.server };
  if (spec.caData) cluster['certificate-authority-data'] = spec.caData;
  else if (spec.caFile) cluster['certificate-authority'] = spec.caFile;
  if (spec.tlsServerName) cluster['tls-server-name'] = spec.tlsServerName;
  if (spec.insecureSkipTLSVerify) cluster['insecure-skip-tls-verify'] = true;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster }],
    contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } }],
    'current-context': 'default-context',
    preferences: {},
    users: [{ name: 'default-auth', user: { 'client-certificate': spec.clientPairFile, 'client-key': spec.clientPairFile } }],
  });
}
