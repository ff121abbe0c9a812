// Reads how long containerd itself spent in each CRI call from its own log: the CRI
// plugin (1.6) logs an info line when a call starts and another when it returns.
import { readFileSync } from 'node:fs';

export type CriCall = 'RunPodSandbox' | 'CreateContainer' | 'StartContainer' | 'StopPodSandbox' | 'RemovePodSandbox';

/** The info lines logged at or after `since`: when (ms since the epoch) and the message, unquoted. */
function* infoLines(logText: string, since: Date): Generator<{ at: number; msg: string }> {
  const lineRe = /^time="([^"]+)" level=info msg="(.*)"$/;
  for (const line of logText.split('\n')) {
    const m = lineRe.exec(line);
    if (!m) continue;
    const at = Date.parse(m[1] as string) + fractionMs(m[1] as string);
    if (at >= since.getTime()) yield { at, msg: (m[2] as string).replace(/\\"/g, '"') };
  }
}

/** Server-side duration (ms) per call, keyed by `${call} ${objectId}`. */
export function serverDurations(logText: string, since: Date): Map<string, number> {
  const starts = new Map<string, number>();
  const out = new Map<string, number>();
  for (const { at, msg } of infoLines(logText, since)) {
    const sandbox = /^RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),.*?\}( returns sandbox id "(\w+)")?$/.exec(msg);
    if (sandbox) {
      if (sandbox[3]) record(out, starts, `RunPodSandbox name:${sandbox[1]}`, `RunPodSandbox ${sandbox[3]}`, at);
      else starts.set(`RunPodSandbox name:${sandbox[1]}`, at);
      continue;
    }
    const create = /^CreateContainer within sandbox "(\w+)" for (?:container )?&ContainerMetadata\{Name:([^,]+),.*?\}( returns container id "(\w+)")?$/.exec(
      msg,
    );
    if (create) {
      if (create[4]) record(out, starts, `CreateContainer ${create[1]}/${create[2]}`, `CreateContainer ${create[4]}`, at);
      else starts.set(`CreateContainer ${create[1]}/${create[2]}`, at);
      continue;
    }
    const other = /^(StartContainer|StopPodSandbox|RemovePodSandbox) (?:for )?"(\w+)"( returns successfully)?$/.exec(msg);
    if (other) {
      const key = `${other[1]} ${other[2]}`;
      if (other[3]) record(out, starts, key, key, at);
      else starts.set(key, at);
    }
  }
  return out;
}

function record(out: Map<string, number>, starts: Map<string, number>, startKey: string, key: string, at: number): void {
  const start = starts.get(startKey);
  if (start !== undefined) out.set(key, at - start);
}

/** Date.parse keeps milliseconds only; add the sub-millisecond digits of RFC3339Nano. */
function fractionMs(ts: string): number {
  const frac = /\.(\d+)Z$/.exec(ts)?.[1] ?? '';
  return frac.length > 3 ? Number(`0.${frac.slice(3)}`) : 0;
}

export function readContainerdLog(path: string): string {
  return readFileSync(path, 'utf8');
}

/** One pod's first start as containerd logged it (ms since the epoch); undefined where the log has no line. */
export interface PodStartCalls {
  namespace: string;
  name: string;
  sandboxAsked?: number;
  sandboxDone?: number;
  createAsked?: number;
  createDone?: number;
  startAsked?: number;
  startDone?: number;
}

/**
 * The RunPodSandbox → CreateContainer → StartContainer calls of the pods in `namespace` (first
 * attempt, first container), from containerd's log: what containerd spent in each call and what
 * passed between the calls, on the kubelet's side.
 */
export function podStartCalls(logText: string, namespace: string, since: Date): PodStartCalls[] {
  const bySandbox = new Map<string, PodStartCalls>();
  const byName = new Map<string, PodStartCalls>();
  const byContainer = new Map<string, PodStartCalls>();
  for (const { at, msg } of infoLines(logText, since)) {
    const sandbox = /^RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),Uid:[^,]*,Namespace:([^,]+),Attempt:0,\}( returns sandbox id "(\w+)")?$/.exec(msg);
    if (sandbox) {
      if (sandbox[2] !== namespace) continue;
      const name = sandbox[1] as string;
      const pod = byName.get(name) ?? { namespace, name };
      byName.set(name, pod);
      if (sandbox[4]) {
        pod.sandboxDone ??= at;
        bySandbox.set(sandbox[4], pod);
      } else pod.sandboxAsked ??= at;
      continue;
    }
    const create =
      /^CreateContainer within sandbox "(\w+)" for (?:container )?&ContainerMetadata\{Name:[^,]+,Attempt:0,\}( returns container id "(\w+)")?$/.exec(msg);
    if (create) {
      const pod = bySandbox.get(create[1] as string);
      if (!pod) continue;
      if (create[3]) {
        pod.createDone ??= at;
        byContainer.set(create[3], pod);
      } else pod.createAsked ??= at;
      continue;
    }
    const start = /^StartContainer for "(\w+)"( returns successfully)?$/.exec(msg);
    const pod = start ? byContainer.get(start[1] as string) : undefined;
    if (start && pod) {
      if (start[2]) pod.startDone ??= at;
      else pod.startAsked ??= at;
    }
  }
  return [...byName.values()];
}
