import type { PodSandbox__Output } from '../../../gen/cri/runtime/v1/PodSandbox.js';
import type { PodSandboxState__Output } from '../../../gen/cri/runtime/v1/PodSandboxState.js';
import { formatTable, humanAgo, shortId } from '../output.js';
import { mapBlock } from './container-table.js';
import { goTimeString } from './go-format.js';

export const podColumns = ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'];

export function podStateWord(state: PodSandboxState__Output): string {
  return state === 'SANDBOX_READY' ? 'Ready' : state === 'SANDBOX_NOTREADY' ? 'NotReady' : String(state);
}

function runtimeHandler(p: PodSandbox__Output): string {
  return p.runtimeHandler || '(default)';
}

/** `crictl pods` as a table. */
export function podTable(pods: readonly PodSandbox__Output[], view: { now: Date; noTrunc: boolean }): string {
  const rows = pods.map((p) => [
    shortId(p.id, view.noTrunc),
    humanAgo(p.createdAt, view.now),
    podStateWord(p.state),
    p.metadata?.name ?? '',
    p.metadata?.namespace ?? '',
    String(p.metadata?.attempt ?? 0),
    runtimeHandler(p),
  ]);
  return formatTable(podColumns, rows);
}

/** `crictl pods -v`: one block per pod. */
export function podVerbose(pods: readonly PodSandbox__Output[]): string {
  return pods
    .map((p) => {
      let s = `ID: ${p.id}\n`;
      const m = p.metadata;
      if (m) {
        if (m.name) s += `Name: ${m.name}\n`;
        if (m.uid) s += `UID: ${m.uid}\n`;
        if (m.namespace) s += `Namespace: ${m.namespace}\n`;
        if (m.attempt) s += `Attempt: ${m.attempt}\n`;
      }
      s += `Status: ${podStateWord(p.state)}\nCreated: ${goTimeString(p.createdAt)}\n`;
      return `${s}${mapBlock('Labels', p.labels)}${mapBlock('Annotations', p.annotations)}Runtime: ${runtimeHandler(p)}\n\n`;
    })
    .join('');
}
