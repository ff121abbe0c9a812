// Where the testbed finds its binaries and puts its testbeds. One place, so
// build.sh, the CLI and the vitest setup agree.
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

// Keep in step with KUBE_VERSION in build.sh and the go.mod in ./go.
export const KUBE_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.8';

export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
export type Binary = (typeof BINARIES)[number];

export function cacheDir(): string {
  return process.env['TSKUBE_CACHE'] || join(homedir(), '.cache', 'tskube');
}

export function binDir(): string {
  return join(cacheDir(), 'k8s', KUBE_VERSION, 'bin');
}

export const TESTBED_PREFIX = 'tskube-testbed-';

// Testbeds live in the temp dir so a forgotten one is cleaned like any other
// temp file; `testbed down --all` finds them by this prefix.
export function testbedParent(): string {
  return process.env['TSKUBE_TESTBED_PARENT'] || tmpdir();
}

export const BUILD_SCRIPT = new URL('./build.sh', import.meta.url).pathname;
