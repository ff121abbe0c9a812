import type { ContainerStatusResponse__Output } from '../../../gen/cri/runtime/v1/ContainerStatusResponse.js';
import type { ImageStatusResponse__Output } from '../../../gen/cri/runtime/v1/ImageStatusResponse.js';
import type { PodSandboxStatusResponse__Output } from '../../../gen/cri/runtime/v1/PodSandboxStatusResponse.js';
import { humanAgo } from '../output.js';
import { mapBlock } from './container-table.js';
import { goMapString, goTimeString, humanSize } from './go-format.js';

// The `-o table` forms of inspect, inspectp and inspecti: "Key: value" lines as crictl prints.

function infoLine(info: Readonly<Record<string, string>>, verbose: boolean): string {
  return verbose ? `Info: ${goMapString(info)}\n` : '';
}

export function containerStatusTable(r: ContainerStatusResponse__Output, verbose: boolean, now: Date): string {
  const s = r.status;
  if (!s) return '';
  let out = `ID: ${s.id}\n`;
  if (s.metadata?.name) out += `Name: ${s.metadata.name}\n`;
  if (s.metadata?.attempt) out += `Attempt: ${s.metadata.attempt}\n`;
  out += `State: ${s.state}\nCreated: ${humanAgo(s.createdAt, now)}\n`;
  if (s.state !== 'CONTAINER_CREATED') out += `Started: ${humanAgo(s.startedAt, now)}\n`;
  if (s.state === 'CONTAINER_EXITED') {
    if (BigInt(s.finishedAt || 0) > 0n) out += `Finished: ${humanAgo(s.finishedAt, now)}\n`;
    out += `Exit Code: ${s.exitCode}\n`;
  }
  return `${out}${mapBlock('Labels', s.labels)}${mapBlock('Annotations', s.annotations)}${infoLine(r.info, verbose)}`;
}

export function podStatusTable(r: PodSandboxStatusResponse__Output, verbose: boolean): string {
  const s = r.status;
  if (!s) return '';
  let out = `ID: ${s.id}\n`;
  const m = s.metadata;
  if (m) {
    if (m.name) out += `Name: ${m.name}\n`;
    if (m.uid) out += `UID: ${m.uid}\n`;
    if (m.namespace) out += `Namespace: ${m.namespace}\n`;
    out += `Attempt: ${m.attempt}\n`;
  }
  out += `Status: ${s.state}\nCreated: ${goTimeString(s.createdAt)}\n`;
  if (s.network) {
    out += `IP Addresses: ${s.network.ip}\n`;
    for (const ip of s.network.additionalIps) out += `Additional IP: ${ip.ip}\n`;
  }
  return `${out}${mapBlock('Labels', s.labels)}${mapBlock('Annotations', s.annotations)}${infoLine(r.info, verbose)}`;
}

export function imageStatusTable(r: ImageStatusResponse__Output, verbose: boolean): string {
  const i = r.image;
  if (!i) return '';
  let out = `ID: ${i.id}\n`;
  for (const t of i.repoTags) out += `Tag: ${t}\n`;
  for (const d of i.repoDigests) out += `Digest: ${d}\n`;
  out += `Size: ${humanSize(i.size, 3)}\n`;
  return `${out}${infoLine(r.info, verbose)}`;
}
