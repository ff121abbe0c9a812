// The shell environment for using a testbed by hand or from scripts:
//   eval "$(test/testbed/testbed env)"
import { join } from 'node:path';
import type { TestbedState } from './state.ts';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function envFileText(state: TestbedState): string {
  const vars: [string, string][] = [
    ['TSKUBE_TESTBED_DIR', state.dir],
    ['KUBECONFIG', state.files.adminKubeconfig],
    ['TSKUBE_TESTBED_APISERVER', state.apiserverUrl],
    ['TSKUBE_TESTBED_BOOTSTRAP_KUBECONFIG', state.files.bootstrapKubeconfig],
    ['TSKUBE_TESTBED_BOOTSTRAP_TOKEN', state.bootstrapToken],
    ['TSKUBE_TESTBED_CA_FILE', state.files.caFile],
    ['TSKUBE_TESTBED_SERVICE_CIDR', state.serviceCIDR],
    ['TSKUBE_TESTBED_POD_CIDR', state.podCIDR],
    ['TSKUBE_TESTBED_KUBECTL', join(state.binDir, 'kubectl')],
  ];
  return vars.map(([k, v]) => `export ${k}=${quote(v)}\n`).join('');
}
