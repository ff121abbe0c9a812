/*
 * /metrics/resource: the summary's CPU and memory numbers in Prometheus text, with
 * upstream's names, labels and help texts (what metrics-server scrapes). Samples carry
 * the time the runtime measured them, as upstream's do, so a rate over two scrapes
 * uses the real interval. Written by hand: prom-client has no per-sample timestamps.
 */
import type { ContainerStats, CpuStats, MemoryStats, PodStats, Summary } from './summary-types.js';

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: string[];
}

const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
  `{${Object.keys(l)
    .sort()
    .map((k) => `${k}="${escapeValue(l[k] ?? '')}"`)
    .join(',')}}`;
const ms = (time: string) => Date.parse(time);
/** JavaScript's shortest round-trip form ("0.0107", "1e-7"), which Prometheus parsers read as Go's. */
const num = (v: number) => String(v);

function cpuSample(labelSet: Record<string, string> | undefined, cpu: CpuStats | undefined): string | undefined {
  if (cpu?.usageCoreNanoSeconds === undefined) return undefined;
  return `${labelSet ? labels(labelSet) : ''} ${num(cpu.usageCoreNanoSeconds / 1e9)} ${ms(cpu.time)}`;
}

function memorySample(labelSet: Record<string, string> | undefined, memory: MemoryStats | undefined): string | undefined {
  if (memory?.workingSetBytes === undefined) return undefined;
  return `${labelSet ? labels(labelSet) : ''} ${num(memory.workingSetBytes)} ${ms(memory.time)}`;
}

/** The exposition text; `scrapeError` when the summary could not be built (then only the error gauges). */
export function resourceMetricsText(summary: Summary | undefined): string {
  const family = (name: string, help: string, type: Family['type']): Family => ({ name, help, type, samples: [] });
  const f = {
    containerCpu: family('container_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter'),
    containerMemory: family('container_memory_working_set_bytes', '[STABLE] Current working set of the container in bytes', 'gauge'),
    containerStart: family('container_start_time_seconds', '[STABLE] Start time of the container since unix epoch in seconds', 'gauge'),
    nodeCpu: family('node_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter'),
    nodeMemory: family('node_memory_working_set_bytes', '[STABLE] Current working set of the node in bytes', 'gauge'),
    podCpu: family('pod_cpu_usage_seconds_total', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter'),
    podMemory: family('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge'),
    resourceScrapeError: family('resource_scrape_error', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge'),
    scrapeError: family('scrape_error', '[ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise', 'gauge'),
  };
  const push = (fam: Family, sample: string | undefined) => {
    if (sample !== undefined) fam.samples.push(`${fam.name}${sample}`);
  };
  if (summary) {
    push(f.nodeCpu, cpuSample(undefined, summary.node.cpu));
    push(f.nodeMemory, memorySample(undefined, summary.node.memory));
    for (const pod of summary.pods) {
      for (const c of pod.containers) addContainer(f, push, pod, c);
      const podLabels = { pod: pod.podRef.name, namespace: pod.podRef.namespace };
      push(f.podCpu, cpuSample(podLabels, pod.cpu));
      push(f.podMemory, memorySample(podLabels, pod.memory));
    }
  }
  const failed = summary ? '0' : '1';
  f.resourceScrapeError.samples.push(`resource_scrape_error ${failed}`);
  f.scrapeError.samples.push(`scrape_error ${failed}`);
  const families = Object.values(f).sort((a, b) => a.name.localeCompare(b.name));
  return `${families.map((fam) => [`# HELP ${fam.name} ${fam.help}`, `# TYPE ${fam.name} ${fam.type}`, ...fam.samples.sort()].join('\n')).join('\n')}\n`;
}

function addContainer(
  f: Record<'containerCpu' | 'containerMemory' | 'containerStart', Family>,
  push: (fam: Family, s: string | undefined) => void,
  pod: PodStats,
  c: ContainerStats,
): void {
  const l = { container: c.name, pod: pod.podRef.name, namespace: pod.podRef.namespace };
  const started = ms(c.startTime) / 1000;
  if (started > 0) push(f.containerStart, `${labels(l)} ${num(started)}`);
  push(f.containerCpu, cpuSample(l, c.cpu));
  push(f.containerMemory, memorySample(l, c.memory));
}
