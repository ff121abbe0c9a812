// `testbed up`: a fresh control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) on loopback, or with --netns in a
// network namespace of its own with a routed address (network.ts), ready for
// nodes to join with a bootstrap token.
//
//   build.sh ─► PKI + kubeconfigs ─► etcd ─► apiserver /readyz ─┬─► controller-manager /healthz
//                                                               ├─► scheduler /healthz
//                                                               └─► kubeadm-style bootstrap objects
//
// Every process is in the state file before `up` waits on it, so a failed or
// interrupted `up` can always be undone by `down`.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binary, checkBinaries, ensureBinaries } from './binaries.ts';
import { asList, bootstrapObjects, newBootstrapToken, tokenString } from './bootstrap.ts';
import { apiserverArgs, controllerManagerArgs, etcdArgs, etcdHealthUrl, schedulerArgs, type Layout } from './components.ts';
import { down } from './down.ts';
import { envFileText } from './env.ts';
import { run } from './exec.ts';
import { checkHealth, type HealthResult } from './health.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { logTail } from './logs.ts';
import { createNetwork, removeNetwork, type TestbedNetwork } from './network.ts';
import { KUBE_VERSION, TESTBED_PREFIX, testbedParent, type Binary } from './paths.ts';
import { makePki } from './pki.ts';
import { freePorts } from './ports.ts';
import { isRunning, sleep, startProcess, type ProcessRecord } from './processes.ts';
import { writeState, type TestbedState } from './state.ts';

export interface UpOptions {
  // For everything from the first process start to ready; a cold build
  // before that is not counted.
  timeoutMs?: number;
  // Use binaries from here instead of running build.sh.
  binDir?: string;
  // Leave a failed testbed's processes and files for a look (then `down` it).
  keepOnFailure?: boolean;
  log?: (message: string) => void;
  // Aborting stops the waiting and removes the half-made testbed.
  signal?: AbortSignal;
  // Run the control plane in its own network namespace with a routed address,
  // so the `kubernetes` Service has an endpoint pods can reach.
  netns?: boolean;
}

// What a test needs to talk to the testbed; also what `up --json` prints.
export interface Testbed {
  dir: string;
  kubeVersion: string;
  apiserverUrl: string;
  adminKubeconfig: string;
  bootstrapKubeconfig: string;
  bootstrapToken: string;
  caFile: string;
  caKeyFile: string;
  envFile: string;
  binDir: string;
  kubectl: string;
  serviceCIDR: string;
  podCIDR: string;
  clusterDomain: string;
  readyMs: number;
  // With --netns: the control plane's namespace and address.
  network?: TestbedNetwork;
}

const SERVICE_CIDR = '10.96.0.0/12';
const KUBERNETES_SERVICE_IP = '10.96.0.1';
const POD_CIDR = '10.244.0.0/16';
const CLUSTER_DOMAIN = 'cluster.local';
const POLL_MS = 200;

export class TestbedUpError extends Error {
  override name = 'TestbedUpError';
}

export async function up(options: UpOptions = {}): Promise<Testbed> {
  const log = options.log ?? ((m: string) => process.stderr.write(`[testbed] ${m}\n`));
  const bin = options.binDir ?? (await ensureBinaries());
  await checkBinaries(bin);

  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 90_000);
  const parent = testbedParent();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, TESTBED_PREFIX));
  try {
    const state = await bringUp(dir, bin, deadline, log, options.signal, options.netns ?? false);
    return testbedInfo(state, Date.now() - started);
  } catch (err) {
    if (options.keepOnFailure) {
      log(`left ${dir} as it was; remove it with: test/testbed/testbed down ${dir}`);
    } else {
      await down(dir).catch((cleanupErr: unknown) => log(`cleanup after the failed up also failed: ${String(cleanupErr)}`));
    }
    throw err;
  }
}

async function bringUp(
  dir: string,
  bin: string,
  deadline: number,
  log: (m: string) => void,
  signal: AbortSignal | undefined,
  netns: boolean,
): Promise<TestbedState> {
  // In its own namespace nothing else listens: the components get kubeadm's ports.
  let network: TestbedNetwork | undefined;
  let ports: TestbedState['ports'];
  if (netns) {
    network = await createNetwork();
    ports = { etcdClient: 2379, etcdPeer: 2380, apiserver: 6443, controllerManager: 10257, scheduler: 10259 };
  } else {
    const [etcdClient, etcdPeer, apiserverPort, controllerManager, scheduler] = await freePorts(5);
    ports = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiserver: apiserverPort!, controllerManager: controllerManager!, scheduler: scheduler! };
  }
  const address = network?.address ?? '127.0.0.1';
  const apiserverUrl = `https://${address}:${ports.apiserver}`;
  const logs = join(dir, 'logs');
  let pki: Awaited<ReturnType<typeof makePki>>;
  try {
    await mkdir(logs);
    pki = await makePki(join(dir, 'pki'), {
      kubernetesServiceIP: KUBERNETES_SERVICE_IP,
      clusterDomain: CLUSTER_DOMAIN,
      ...(network && { extraApiserverIPs: [network.address] }),
    });
  } catch (err) {
    if (network) await removeNetwork(network);
    throw err;
  }
  const token = newBootstrapToken();
  const files = {
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    bootstrapKubeconfig: join(dir, 'bootstrap.kubeconfig'),
    caFile: pki.ca.cert,
    caKeyFile: pki.ca.key,
    env: join(dir, 'env'),
    logs,
  };
  const kubeconfigs = { controllerManager: join(dir, 'controller-manager.kubeconfig'), scheduler: join(dir, 'scheduler.kubeconfig') };
  const kc = (user: string, kp: { cert: string; key: string }) =>
    renderKubeconfig({ server: apiserverUrl, caFile: pki.ca.cert, user, credentials: { kind: 'cert', certFile: kp.cert, keyFile: kp.key } });
  await Promise.all([
    writeFile(files.adminKubeconfig, await kc('kubernetes-admin', pki.admin), { mode: 0o600 }),
    writeFile(kubeconfigs.controllerManager, await kc('system:kube-controller-manager', pki.controllerManager), { mode: 0o600 }),
    writeFile(kubeconfigs.scheduler, await kc('system:kube-scheduler', pki.scheduler), { mode: 0o600 }),
    writeFile(
      files.bootstrapKubeconfig,
      await renderKubeconfig({
        server: apiserverUrl,
        caFile: pki.ca.cert,
        user: 'tls-bootstrap-token-user',
        credentials: { kind: 'token', token: tokenString(token) },
      }),
      { mode: 0o600 },
    ),
  ]);

  const layout: Layout = {
    pki,
    etcdDataDir: join(dir, 'etcd'),
    certDir: join(dir, 'pki', 'generated'),
    ports,
    kubeconfigs,
    serviceCIDR: SERVICE_CIDR,
    podCIDR: POD_CIDR,
    clusterDomain: CLUSTER_DOMAIN,
    address,
    routed: network !== undefined,
  };
  const state: TestbedState = {
    version: 1,
    dir,
    kubeVersion: KUBE_VERSION,
    binDir: bin,
    createdAt: new Date().toISOString(),
    apiserverUrl,
    ports,
    serviceCIDR: SERVICE_CIDR,
    podCIDR: POD_CIDR,
    clusterDomain: CLUSTER_DOMAIN,
    bootstrapToken: tokenString(token),
    files,
    processes: [],
    ...(network && { network }),
  };
  await writeState(state);

  const start = async (name: Binary, args: string[]): Promise<ProcessRecord> => {
    signal?.throwIfAborted();
    const p = startProcess(name, binary(bin, name), args, join(logs, `${name}.log`), network?.netns);
    state.processes.push(p);
    await writeState(state);
    return p;
  };
  const waitReady = (p: ProcessRecord, what: string, check: () => Promise<HealthResult>) => waitFor(p, what, check, state.processes, deadline, signal);

  log(`starting etcd in ${dir}`);
  const etcd = await start('etcd', etcdArgs(layout));
  await waitReady(etcd, 'etcd /health', () => checkHealth({ url: etcdHealthUrl(layout) }));

  log(`starting kube-apiserver on ${apiserverUrl}`);
  const admin = { caFile: pki.ca.cert, certFile: pki.admin.cert, keyFile: pki.admin.key };
  const apiserver = await start('kube-apiserver', apiserverArgs(layout));
  await waitReady(apiserver, 'kube-apiserver /readyz', () => checkHealth({ url: `${apiserverUrl}/readyz?verbose`, ...admin }));

  // The controller manager gives up if the apiserver is not healthy within
  // seconds of its start, hence only now.
  log('starting kube-controller-manager and kube-scheduler; applying bootstrap objects');
  const kcm = await start('kube-controller-manager', controllerManagerArgs(layout));
  const sched = await start('kube-scheduler', schedulerArgs(layout));

  const clusterInfo = await renderKubeconfig({ server: apiserverUrl, caFile: pki.ca.cert, user: '', credentials: { kind: 'none' } });
  const expiration = new Date(Date.now() + 24 * 3600 * 1000);
  const objectsFile = join(dir, 'bootstrap-objects.json');
  await writeFile(objectsFile, asList(bootstrapObjects(token, clusterInfo, expiration)), { mode: 0o600 });
  const kubectl = binary(bin, 'kubectl');
  await Promise.all([
    waitReady(kcm, 'kube-controller-manager /healthz', () => checkHealth({ url: `https://${address}:${ports.controllerManager}/healthz` })),
    waitReady(sched, 'kube-scheduler /healthz', () => checkHealth({ url: `https://${address}:${ports.scheduler}/healthz` })),
    waitReady(apiserver, 'bootstrap objects applied', async () => {
      // Retried: kube-public may not exist yet right after /readyz.
      try {
        await run(kubectl, ['--kubeconfig', files.adminKubeconfig, 'apply', '--server-side', '--field-manager=tskube-testbed', '-f', objectsFile]);
        return { ok: true, detail: '' };
      } catch (err) {
        return { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    }),
  ]);

  await writeFile(files.env, envFileText(state), { mode: 0o600 });
  if (network) log(`control plane in network namespace ${network.netns} at ${network.address} (host side ${network.hostAddress})`);
  return state;
}

export function testbedInfo(state: TestbedState, readyMs: number): Testbed {
  return {
    dir: state.dir,
    kubeVersion: state.kubeVersion,
    apiserverUrl: state.apiserverUrl,
    adminKubeconfig: state.files.adminKubeconfig,
    bootstrapKubeconfig: state.files.bootstrapKubeconfig,
    bootstrapToken: state.bootstrapToken,
    caFile: state.files.caFile,
    caKeyFile: state.files.caKeyFile,
    envFile: state.files.env,
    binDir: state.binDir,
    kubectl: binary(state.binDir, 'kubectl'),
    serviceCIDR: state.serviceCIDR,
    podCIDR: state.podCIDR,
    clusterDomain: state.clusterDomain,
    readyMs,
    ...(state.network && { network: state.network }),
  };
}

// Polls until `check` passes. Fails at once, with the dead process's log,
// if any started process exits; at the deadline, with the log of the one
// waited for.
/** Polls `check` until it passes; fails with `p`'s log tail when any of `all` exits or the deadline passes. */
export async function waitFor(
  p: ProcessRecord,
  what: string,
  check: () => Promise<HealthResult>,
  all: readonly ProcessRecord[],
  deadline: number,
  signal?: AbortSignal,
  context = 'testbed up',
): Promise<void> {
  let last: HealthResult = { ok: false, detail: 'not checked yet' };
  for (;;) {
    signal?.throwIfAborted();
    for (const q of all) {
      if (!isRunning(q)) throw await failure(q, context, `${q.name} exited while waiting for ${what}`);
    }
    last = await check();
    if (last.ok) return;
    if (Date.now() > deadline) throw await failure(p, context, `timed out waiting for ${what}; last check: ${last.detail}`);
    await sleep(POLL_MS);
  }
}

async function failure(p: ProcessRecord, context: string, message: string): Promise<TestbedUpError> {
  return new TestbedUpError(`${context}: ${message}\n--- last 30 lines of ${p.log} ---\n${await logTail(p.log, 30)}`);
}
