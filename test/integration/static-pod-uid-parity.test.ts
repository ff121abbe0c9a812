// tskube's static pod UIDs and container hashes against upstream's: the oracle
// (test/testbed/go/cmd/static-pod-uid, built by `test/testbed/build.sh oracles`) runs the
// upstream kubelet's own file source over the same folder, so both sides hash the same
// files at the same paths for the same node. Needs Go for a cold build; no containerd.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerSpecHash } from '../../src/kubelet/cri-requests/container-hash.js';
import { applyPodDefaults } from '../../src/kubelet/pods/sources/pod-defaults.js';
import { parseStaticPod } from '../../src/kubelet/pods/sources/static-pod.js';
import { podSpewText } from '../../src/kubelet/pods/sources/static-pod-uid.js';
import { BUILD_SCRIPT } from '../testbed/paths.js';

const node = 'node-7.example';

const pod = (name: string, spec: string, extraMeta = ''): string =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${extraMeta}spec:\n${spec.replace(/^/gm, '  ')}\n`;

/** file name → content; each pod's name is unique, which is how the oracle's lines are matched. */
const manifests: Record<string, string> = {
  'minimal.yaml': pod('minimal', 'containers:\n- name: app\n  image: busybox'),
  'tagged.yaml': pod('tagged', 'containers:\n- name: app\n  image: registry.k8s.io/pause:3.10\n  imagePullPolicy: Never'),
  'pinned.yaml': pod(
    'pinned',
    `containers:\n- name: latest-pinned\n  image: busybox:latest@sha256:${'b'.repeat(64)}\n- name: port\n  image: localhost:5000/busybox\n- name: port-tag\n  image: localhost:5000/busybox:1.2`,
  ),
  'several.yaml': pod(
    'several',
    `containers:
- name: a
  image: busybox:1.36
  command: [sh, -c, 'sleep 3600']
  args: ["x", "y z"]
  workingDir: /tmp
- name: b
  image: busybox@sha256:${'a'.repeat(64)}
  ports:
  - containerPort: 8080
    name: http
  - containerPort: 53
    protocol: UDP`,
  ),
  'init.yaml': pod(
    'init',
    `initContainers:
- name: setup
  image: busybox:latest
  command: [sh, -c, 'true']
- name: sidecar
  image: busybox
  restartPolicy: Always
containers:
- name: main
  image: busybox`,
  ),
  'volumes.yaml': pod(
    'volumes',
    `volumes:
- name: plain
- name: scratch
  emptyDir: {}
- name: mem
  emptyDir:
    medium: Memory
    sizeLimit: 64Mi
- name: host
  hostPath:
    path: /var/log
- name: sock
  hostPath:
    path: /run/containerd/containerd.sock
    type: Socket
- name: info
  downwardAPI:
    defaultMode: 0440
    items:
    - path: labels
      fieldRef:
        fieldPath: metadata.labels
    - path: cpu
      mode: 0400
      resourceFieldRef:
        containerName: app
        resource: limits.cpu
        divisor: 1m
- name: img
  image:
    reference: busybox:1.36
containers:
- name: app
  image: busybox
  resources:
    limits:
      cpu: 500m
  volumeMounts:
  - name: scratch
    mountPath: /scratch
  - name: host
    mountPath: /host
    readOnly: true
    mountPropagation: HostToContainer
  - name: info
    mountPath: /info
    subPath: labels`,
    '  labels:\n    tier: control-plane\n    component: x\n',
  ),
  'probes.yaml': pod(
    'probes',
    `containers:
- name: app
  image: busybox
  livenessProbe:
    httpGet:
      port: 8080
      httpHeaders:
      - name: X-A
        value: b
    initialDelaySeconds: 5
  readinessProbe:
    tcpSocket:
      port: http
    periodSeconds: 3
  startupProbe:
    exec:
      command: [cat, /tmp/ready]
    failureThreshold: 30
- name: grpc
  image: busybox
  livenessProbe:
    grpc:
      port: 9000
  lifecycle:
    preStop:
      httpGet:
        port: 80
        path: /stop
    postStart:
      exec:
        command: [touch, /started]`,
  ),
  'quantities.yaml': pod(
    'quantities',
    `containers:
- name: a
  image: busybox
  resources:
    requests: {cpu: 100m, memory: 1e3}
    limits: {cpu: "0.1", memory: 1Gi, ephemeral-storage: 2G}
- name: b
  image: busybox
  resources:
    requests: {cpu: 0.25, memory: 128974848}
    limits: {cpu: 1, memory: 1.5Gi}
- name: c
  image: busybox
  resources:
    limits: {cpu: 100n, memory: 129M, hugepages-2Mi: 2Mi}
- name: d
  image: busybox
  resources:
    limits: {cpu: "1.0", memory: 1000Mi}
    requests: {cpu: 0.0001, memory: 0.5Ki}`,
  ),
  'security.yaml': pod(
    'security',
    `shareProcessNamespace: true
hostIPC: true
hostUsers: true
enableServiceLinks: false
automountServiceAccountToken: false
hostAliases:
- ip: 10.1.2.3
  hostnames: [foo.local, bar.local]
dnsConfig:
  nameservers: [1.1.1.1]
  options:
  - name: ndots
    value: "2"
os:
  name: linux
securityContext:
  runAsUser: 1000
  runAsGroup: 3000
  fsGroup: 2000
  supplementalGroups: [4000, 5000]
  sysctls:
  - name: net.ipv4.ip_local_port_range
    value: "1024 65535"
  seccompProfile:
    type: RuntimeDefault
containers:
- name: app
  image: busybox
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    runAsNonRoot: true
    capabilities:
      drop: [ALL]
      add: [NET_BIND_SERVICE]`,
  ),
  'tolerations.yaml': pod(
    'tolerations',
    `priorityClassName: system-node-critical
priority: 2000001000
tolerations:
- operator: Exists
  effect: NoExecute
- key: node-role.kubernetes.io/control-plane
  operator: Exists
  effect: NoSchedule
- key: x
  operator: Equal
  value: "y"
  tolerationSeconds: 30
  effect: NoExecute
nodeSelector:
  kubernetes.io/os: linux
containers:
- name: app
  image: busybox`,
  ),
  'env.yaml': pod(
    'env',
    `containers:
- name: app
  image: busybox
  env:
  - name: A
    value: "1"
  - name: EMPTY
    value: ""
  - name: NODE
    valueFrom:
      fieldRef:
        fieldPath: spec.nodeName
  - name: LIMIT
    valueFrom:
      resourceFieldRef:
        resource: limits.memory
        divisor: 1Mi
  - name: UNICODE
    value: "héllo ✓"`,
  ),
  'hostnet.yaml': pod(
    'hostnet',
    `hostNetwork: true
hostPID: true
dnsPolicy: ClusterFirstWithHostNet
restartPolicy: OnFailure
terminationGracePeriodSeconds: 5
containers:
- name: app
  image: busybox
  ports:
  - containerPort: 10257
    name: probe-port
  - containerPort: 10258
    hostPort: 10258`,
  ),
  'annotated.yaml': pod(
    'annotated',
    `containers:
- name: app
  image: busybox`,
    '  namespace: kube-system\n  annotations:\n    b: "2"\n    a: "1"\n    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.0.0.1:2379\n  labels: {}\n',
  ),
  'with-uid.yaml': pod('with-uid', 'containers:\n- name: app\n  image: busybox', '  uid: 1234-abcd\n'),
  'null-timestamp.yaml': pod('null-timestamp', 'containers:\n- name: app\n  image: busybox\n  resources: {}', '  creationTimestamp: null\n'),
  'kube-apiserver.yaml': `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: 10.0.0.1:6443
  creationTimestamp: null
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.1
    - --etcd-servers=https://127.0.0.1:2379
    image: registry.k8s.io/kube-apiserver:v1.36.3
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 10.0.0.1
        path: /livez
        port: probe-port
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kube-apiserver
    ports:
    - containerPort: 6443
      name: probe-port
      protocol: TCP
    resources:
      requests:
        cpu: 250m
    volumeMounts:
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
status: {}
`,
  'json.json': JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'json', labels: { app: 'j' } },
    spec: { containers: [{ name: 'app', image: 'busybox', resources: { limits: { cpu: 2, memory: '64Mi' } } }] },
  }),
  'json-spelling.json': `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"json-spelling"},
    "spec":{"containers":[{"name":"app","image":"busybox","resources":{"limits":{"cpu":0.50,"memory":1e3}}}]}}`,
  'multi.yaml': `${pod('multi-first', 'containers:\n- name: app\n  image: busybox')}---\n${pod('multi-second', 'containers:\n- name: app\n  image: busybox')}`,
  'comments.yaml': `# a comment\n${pod('comments', 'containers:\n- name: app   # trailing\n  image: "busybox"')}`,
};

const app = 'containers:\n- name: app\n  image: busybox';
/** Manifests upstream refuses because they name API objects (PreventStaticPodAPIReferences), by file. */
const refusedManifests: Record<string, string> = {
  'ref-sa.yaml': pod('ref-sa', `serviceAccountName: default\n${app}`),
  'ref-sa-deprecated.yaml': pod('ref-sa-deprecated', `serviceAccount: default\n${app}`),
  'ref-pull-secret.yaml': pod('ref-pull-secret', `imagePullSecrets:\n- name: regcred\n${app}`),
  'ref-env-secret.yaml': pod('ref-env-secret', `${app}\n  env:\n  - name: A\n    valueFrom:\n      secretKeyRef: {name: s, key: k}`),
  'ref-envfrom-cm.yaml': pod('ref-envfrom-cm', `${app}\n  envFrom:\n  - configMapRef: {name: c}`),
  'ref-cm-volume.yaml': pod('ref-cm-volume', `volumes:\n- name: v\n  configMap: {name: c}\n${app}`),
  'ref-secret-volume.yaml': pod('ref-secret-volume', `volumes:\n- name: v\n  secret: {secretName: s}\n${app}`),
  // (A projected serviceAccountToken alone never gets this far: validation wants serviceAccountName.)
  'ref-projected-secret.yaml': pod(
    'ref-projected-secret',
    `volumes:\n- name: v\n  projected:\n    sources:\n    - downwardAPI:\n        items: [{path: podname, fieldRef: {fieldPath: metadata.name}}]\n    - secret: {name: s}\n${app}`,
  ),
  'ref-pvc.yaml': pod('ref-pvc', `volumes:\n- name: v\n  persistentVolumeClaim: {claimName: c}\n${app}`),
  'ref-csi.yaml': pod('ref-csi', `volumes:\n- name: v\n  csi: {driver: hostpath.csi.k8s.io}\n${app}`),
  'ref-csi-secret.yaml': pod('ref-csi-secret', `volumes:\n- name: v\n  csi: {driver: d, nodePublishSecretRef: {name: s}}\n${app}`),
  'ref-ephemeral.yaml': pod(
    'ref-ephemeral',
    `volumes:\n- name: v\n  ephemeral:\n    volumeClaimTemplate:\n      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n${app}`,
  ),
};

interface OracleLine {
  name: string;
  uid: string;
  containers: Record<string, string>;
}

describe('static pod UID and container hash, against the upstream kubelet file source', () => {
  let dir: string;
  let oracle: string;
  const upstream = new Map<string, OracleLine>();
  let upstreamLog = '';

  beforeAll(() => {
    const bin = execFileSync(BUILD_SCRIPT, ['oracles'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    oracle = join(bin, 'static-pod-uid');
    dir = mkdtempSync(join(tmpdir(), 'tskube-static-uid-'));
    for (const [file, content] of Object.entries({ ...manifests, ...refusedManifests })) writeFileSync(join(dir, file), content);
    const run = spawnSync(oracle, ['-node', node, dir], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${oracle} failed: ${run.stderr}`);
    upstreamLog = run.stderr;
    for (const line of run.stdout.trim().split('\n')) {
      const l = JSON.parse(line) as OracleLine;
      upstream.set(l.name, l);
    }
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('upstream accepted every manifest (so each comparison below means something)', () => {
    expect(upstream.size, upstreamLog).toBe(Object.keys(manifests).length);
  });

  for (const file of Object.keys(refusedManifests)) {
    it(`${file}: refused, with upstream's reason`, () => {
      const result = parseStaticPod(refusedManifests[file]!, join(dir, file), node);
      if (result.ok) throw new Error(`tskube accepted ${file}`);
      const theirs = new RegExp(`"Could not process manifest file" err="((?:[^"\\\\]|\\\\.)*)" path="${join(dir, file)}"`).exec(upstreamLog)?.[1];
      expect(theirs, `upstream's log names no refusal of ${file}:\n${upstreamLog}`).toBeDefined();
      expect(result.error).toBe(theirs);
    });
  }

  for (const file of Object.keys(manifests)) {
    it(`${file}: the same UID and container hashes`, () => {
      const path = join(dir, file);
      const result = parseStaticPod(manifests[file]!, path, node);
      if (!result.ok) throw new Error(`tskube refused ${file}: ${result.error}`);
      const name = result.pod.metadata?.name ?? '';
      const theirs = upstream.get(name);
      expect(theirs, `upstream has no pod ${name}`).toBeDefined();
      if (result.pod.metadata?.uid !== theirs!.uid) {
        // Say where the hashed texts part, which is what a fix needs.
        const want = execFileSync(oracle, ['-dump', path], { encoding: 'utf8' });
        const raw = file.endsWith('.json') ? JSON.parse(manifests[file]!) : parse(manifests[file]!);
        applyPodDefaults(raw);
        const got = podSpewText(raw);
        let i = 0;
        while (i < want.length && want[i] === got[i]) i++;
        expect(got.slice(Math.max(0, i - 150), i + 150), `hashed text differs at ${i}`).toBe(want.slice(Math.max(0, i - 150), i + 150));
      }
      expect(result.pod.metadata?.uid).toBe(theirs!.uid);
      const ours: Record<string, string> = {};
      for (const c of [...(result.pod.spec?.initContainers ?? []), ...(result.pod.spec?.containers ?? [])]) ours[c.name] = containerSpecHash(c);
      expect(ours).toEqual(theirs!.containers);
    });
  }
});
