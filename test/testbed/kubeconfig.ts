// Kubeconfig files with everything embedded, so a kubeconfig can be copied
// or handed to a test without the PKI folder it came from.
import { readFile } from 'node:fs/promises';

export type Credentials = { kind: 'cert'; certFile: string; keyFile: string } | { kind: 'token'; token: string } | { kind: 'none' };

export interface KubeconfigSpec {
  server: string;
  caFile: string;
  user: string;
  credentials: Credentials;
  clusterName?: string;
}

const b64 = async (file: string) => (await readFile(file)).toString('base64');

// Every value written here is base64, a URL or a fixed name, so plain YAML
// without quoting is safe.
export async function renderKubeconfig(spec: KubeconfigSpec): Promise<string> {
  const cluster = spec.clusterName ?? 'tskube-testbed';
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${spec.server}`,
    `    certificate-authority-data: ${await b64(spec.caFile)}`,
  ];
  const c = spec.credentials;
  if (c.kind === 'none') {
    // The shape of kube-public/cluster-info: a cluster and nothing else.
    lines.push('contexts: []', 'current-context: ""', 'preferences: {}', 'users: []');
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    'contexts:',
    `- name: ${spec.user}@${cluster}`,
    '  context:',
    `    cluster: ${cluster}`,
    `    user: ${spec.user}`,
    `current-context: ${spec.user}@${cluster}`,
    'preferences: {}',
    'users:',
    `- name: ${spec.user}`,
    '  user:',
  );
  if (c.kind === 'cert') {
    lines.push(`    client-certificate-data: ${await b64(c.certFile)}`, `    client-key-data: ${await b64(c.keyFile)}`);
  } else {
    lines.push(`    token: ${c.token}`);
  }
  return `${lines.join('\n')}\n`;
}
