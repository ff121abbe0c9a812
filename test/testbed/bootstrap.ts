// What `kubeadm init` sets up so that nodes can join with a bootstrap token
// (its "bootstrap-token" and "upload-config"-free phases): the token Secret,
// the RBAC that lets bootstrappers ask for client certificates and get them
// approved, and kube-public/cluster-info for discovery.
import { randomInt } from 'node:crypto';

// The group kubeadm puts its default tokens in; node-side tooling and docs
// expect this exact name.
export const BOOTSTRAP_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

export interface BootstrapToken {
  id: string;
  secret: string;
}

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomString = (n: number) => Array.from({ length: n }, () => TOKEN_CHARS[randomInt(TOKEN_CHARS.length)]).join('');

// The format the apiserver's bootstrap authenticator accepts: [a-z0-9]{6}.[a-z0-9]{16}.
export function newBootstrapToken(): BootstrapToken {
  return { id: randomString(6), secret: randomString(16) };
}

export function tokenString(t: BootstrapToken): string {
  return `${t.id}.${t.secret}`;
}

const rbac = 'rbac.authorization.k8s.io';

function clusterRoleBinding(name: string, clusterRole: string, subjects: { kind: 'Group' | 'User'; name: string }[]) {
  return {
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: clusterRole },
    subjects: subjects.map((s) => ({ apiGroup: rbac, ...s })),
  };
}

export function bootstrapObjects(token: BootstrapToken, clusterInfoKubeconfig: string, expiration: Date): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        description: 'tskube testbed default node token',
        'token-id': token.id,
        'token-secret': token.secret,
        // The tokencleaner controller deletes the Secret after this.
        expiration: expiration.toISOString().replace(/\.\d+Z$/, 'Z'),
        'usage-bootstrap-authentication': 'true',
        // Lets the bootstrapsigner controller sign cluster-info with this
        // token, for discovery that checks the CA (jws-kubeconfig-<id>).
        'usage-bootstrap-signing': 'true',
        'auth-extra-groups': BOOTSTRAP_GROUP,
      },
    },
    // Bootstrappers may create CSRs...
    clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [{ kind: 'Group', name: BOOTSTRAP_GROUP }]),
    // ...the csrapproving controller approves their first client cert...
    clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      { kind: 'Group', name: BOOTSTRAP_GROUP },
    ]),
    // ...and each node's renewals of its own cert.
    clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      { kind: 'Group', name: 'system:nodes' },
    ]),
    // `kubeadm join` checks that no Node of its name exists yet.
    {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'kubeadm:get-nodes' },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
    },
    clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [{ kind: 'Group', name: BOOTSTRAP_GROUP }]),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cluster-info', namespace: 'kube-public' },
      data: { kubeconfig: clusterInfoKubeconfig },
    },
    // Discovery reads cluster-info before it has any credentials; a joining
    // node that already holds its token reads it as a bootstrapper.
    {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }],
    },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo' },
      subjects: [
        { apiGroup: rbac, kind: 'User', name: 'system:anonymous' },
        { apiGroup: rbac, kind: 'Group', name: 'system:bootstrappers' },
      ],
    },
  ];
}

export function asList(items: object[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`;
}
