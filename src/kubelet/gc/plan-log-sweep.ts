// Which pod log directories and /var/log/containers links outlived their pods. Upstream
// removes a pod's log directory once the pod is gone and a container's link once its
// log file is; log shippers read the links, so a dangling one is noise to them.

/** A `<namespace>_<name>_<uid>` directory under the pod logs root. */
export interface PodLogDir {
  name: string;
}

/** A symbolic link in the container log links folder. */
export interface ContainerLogLink {
  name: string;
  target: string;
  targetExists: boolean;
}

export interface LogSweepInput {
  dirs: PodLogDir[];
  links: ContainerLogLink[];
  /** Where pod log directories live: links pointing elsewhere are not the kubelet's. */
  podLogsRoot: string;
  /** Pods with anything left in the runtime, or wanted or handled by the kubelet. */
  livePodUids: ReadonlySet<string>;
}

export interface LogSweepPlan {
  dirs: string[];
  links: string[];
}

/** The UID is the last `_`-separated part; namespaces and names cannot hold `_`. */
export function podUidOfLogDir(name: string): string | undefined {
  const parts = name.split('_');
  return parts.length === 3 && parts[2] ? parts[2] : undefined;
}

export function planLogSweep(input: LogSweepInput): LogSweepPlan {
  const root = input.podLogsRoot.replace(/\/+$/, '');
  const dirs = input.dirs
    .filter((d) => {
      const uid = podUidOfLogDir(d.name);
      return uid !== undefined && !input.livePodUids.has(uid);
    })
    .map((d) => d.name);
  const removed = new Set(dirs);
  const links = input.links.filter((l) => isKubeletLink(l, root) && (!l.targetExists || pointsInto(l, root, removed))).map((l) => l.name);
  return { dirs, links };
}

/** The kubelet's links that point into the given pod log directories. */
export function linksInto(links: ContainerLogLink[], podLogsRoot: string, dirs: readonly string[]): string[] {
  const root = podLogsRoot.replace(/\/+$/, '');
  const set = new Set(dirs);
  return links.filter((l) => isKubeletLink(l, root) && pointsInto(l, root, set)).map((l) => l.name);
}

function isKubeletLink(l: ContainerLogLink, root: string): boolean {
  return l.name.endsWith('.log') && l.target.startsWith(`${root}/`);
}

function pointsInto(l: ContainerLogLink, root: string, dirs: ReadonlySet<string>): boolean {
  return dirs.has(l.target.slice(root.length + 1).split('/')[0] ?? '');
}
