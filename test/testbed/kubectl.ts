// kubectl as tests use it: the testbed's own build, one kubeconfig per call.
import { run } from './exec.ts';

export interface KubectlTarget {
  kubectl: string;
}

export function kubectl(tb: KubectlTarget, kubeconfig: string, args: string[], input?: string): Promise<string> {
  return run(tb.kubectl, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
}

export async function kubectlJson<T = unknown>(tb: KubectlTarget, kubeconfig: string, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(tb, kubeconfig, [...args, '-o', 'json'])) as T;
}
