import type { Container__Output } from '../../../gen/cri/runtime/v1/Container.js';
import type { ContainerState__Output } from '../../../gen/cri/runtime/v1/ContainerState.js';
import { formatTable, humanAgo, shortId } from '../output.js';
import { containerPod, type PodNames } from './container-filter.js';

export const containerColumns = ['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE'];

const stateWords: Record<ContainerState__Output, string> = {
  CONTAINER_CREATED: 'Created',
  CONTAINER_RUNNING: 'Running',
  CONTAINER_EXITED: 'Exited',
  CONTAINER_UNKNOWN: 'Unknown',
};

export function containerStateWord(state: ContainerState__Output): string {
  return stateWords[state] ?? String(state);
}

export interface ContainerView {
  now: Date;
  noTrunc: boolean;
  pods?: ReadonlyMap<string, PodNames>;
  /** --resolve-image-path: the repo tag to show for an image reference. */
  imageNames?: ReadonlyMap<string, string>;
}

const digestPattern = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

/** The IMAGE cell: a digest (what the kubelet passes) is shortened like an ID. */
export function imageCell(image: string, view: Pick<ContainerView, 'noTrunc' | 'imageNames'>): string {
  const named = view.imageNames?.get(image);
  if (named) return named;
  if (!view.noTrunc && digestPattern.test(image)) return image.slice(image.indexOf(':') + 1, image.indexOf(':') + 14);
  return image;
}

/** `crictl ps` as a table. */
export function containerTable(containers: readonly Container__Output[], view: ContainerView): string {
  const rows = containers.map((c) => {
    const pod = containerPod(c, view.pods);
    return [
      shortId(c.id, view.noTrunc),
      imageCell(c.image?.image ?? '', view),
      humanAgo(c.createdAt, view.now),
      containerStateWord(c.state),
      c.metadata?.name ?? '',
      String(c.metadata?.attempt ?? 0),
      shortId(c.podSandboxId, view.noTrunc),
      pod.name,
      pod.namespace,
    ];
  });
  return formatTable(containerColumns, rows);
}

/** Labels and annotations blocks as crictl prints them: sorted, tab-indented, "k -> v". */
export function mapBlock(title: string, m: Readonly<Record<string, string>>): string {
  const keys = Object.keys(m).sort();
  if (keys.length === 0) return '';
  return `${title}:\n${keys.map((k) => `\t${k} -> ${m[k]}\n`).join('')}`;
}

/** `crictl ps -v`: one block per container. */
export function containerVerbose(containers: readonly Container__Output[], view: ContainerView): string {
  return containers
    .map((c) => {
      const pod = containerPod(c, view.pods);
      let s = `ID: ${c.id}\nPodID: ${c.podSandboxId}\nNamespace: ${pod.namespace}\n`;
      if (c.metadata) {
        if (c.metadata.name) s += `Name: ${c.metadata.name}\n`;
        s += `Attempt: ${c.metadata.attempt}\n`;
      }
      s += `State: ${containerStateWord(c.state)}\n`;
      if (c.image) s += `Image: ${c.image.image}\n`;
      s += `Created: ${humanAgo(c.createdAt, view.now)}\n`;
      return `${s}${mapBlock('Labels', c.labels)}${mapBlock('Annotations', c.annotations)}\n`;
    })
    .join('');
}
