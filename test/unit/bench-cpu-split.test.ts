import { describe, expect, it } from 'vitest';
import { type Classify, type CpuSnapshot, cpuSplit, machineGroup, otherGroup, unseenGroup, windowGroup } from '../../bench/lib/cpu-split.js';
import { counterDelta, counters } from '../../bench/lib/prom-counters.js';

type Proc = { pid: number; ppid: number; comm: string; own: number; children: number };

function snapshot(at: number, busyTicks: number, procs: Proc[]): CpuSnapshot {
  return {
    at,
    busyTicks,
    idleTicks: 0,
    irqTicks: 0,
    stealTicks: 0,
    procs: new Map(
      procs.map((p) => [`${p.pid}@1`, { pid: p.pid, ppid: p.ppid, start: '1', comm: p.comm, args: [p.comm], ownTicks: p.own, childTicks: p.children }]),
    ),
  };
}

const classify: Classify = (p, parent) => {
  if (p.comm === 'containerd') return { own: 'containerd', children: 'cni' };
  if (p.comm === 'shim') return { own: 'shim', children: 'runc' };
  if (parent(p.ppid)?.comm === 'shim') return { own: 'pods', children: 'pods' };
  return undefined;
};

describe('cpuSplit', () => {
  it("charges a process's own time and its reaped children's to their groups, and a new process from zero", () => {
    const before = snapshot(0, 1000, [
      { pid: 10, ppid: 1, comm: 'containerd', own: 500, children: 100 },
      { pid: 20, ppid: 1, comm: 'editor', own: 50, children: 0 },
    ]);
    const after = snapshot(2000, 1400, [
      { pid: 10, ppid: 1, comm: 'containerd', own: 600, children: 150 },
      { pid: 20, ppid: 1, comm: 'editor', own: 70, children: 0 },
      { pid: 30, ppid: 1, comm: 'shim', own: 40, children: 90 },
      { pid: 31, ppid: 30, comm: 'pause', own: 10, children: 0 },
    ]);
    const split = cpuSplit(before, after, classify);
    expect(split.get('containerd')).toBeCloseTo(1.0);
    expect(split.get('cni')).toBeCloseTo(0.5);
    expect(split.get('shim')).toBeCloseTo(0.4);
    expect(split.get('runc')).toBeCloseTo(0.9);
    expect(split.get('pods')).toBeCloseTo(0.1);
    expect(split.get(otherGroup)).toBeCloseTo(0.2);
    expect(split.get(machineGroup)).toBeCloseTo(4.0);
    // 4.0 busy, 3.1 seen in processes.
    expect(split.get(unseenGroup)).toBeCloseTo(0.9);
    expect(split.get(windowGroup)).toBeCloseTo(2.0);
  });

  it('takes off what a child reaped in the window had used before it', () => {
    const before = snapshot(0, 0, [
      { pid: 10, ppid: 1, comm: 'containerd', own: 0, children: 0 },
      { pid: 11, ppid: 10, comm: 'bridge', own: 30, children: 0 },
    ]);
    // The plugin ran 20 more ticks, exited, and containerd reaped its whole 50.
    const after = snapshot(1000, 20, [{ pid: 10, ppid: 1, comm: 'containerd', own: 0, children: 50 }]);
    const split = cpuSplit(before, after, classify);
    expect(split.get('cni')).toBeCloseTo(0.2);
    expect(split.get(unseenGroup)).toBeCloseTo(0);
  });
});

describe('counters', () => {
  const text = [
    '# HELP apiserver_request_total Counter of apiserver requests',
    '# TYPE apiserver_request_total counter',
    'apiserver_request_total{code="201",resource="pods",subresource="",verb="POST"} 110',
    'apiserver_request_total{code="200",resource="pods",subresource="status",verb="PATCH"} 150',
    'apiserver_request_total{code="409",resource="pods",subresource="status",verb="PATCH"} 2',
    'apiserver_request_total_other{resource="pods",verb="POST"} 9',
    'kubelet_runtime_operations_total{operation_type="run_podsandbox"} 3',
  ].join('\n');
  const key = (l: Record<string, string>) => `${l['verb']} ${l['resource']}${l['subresource'] ? `/${l['subresource']}` : ''}`;

  it('sums one metric by the labels asked for, and no other metric', () => {
    expect(counters(text, 'apiserver_request_total', key)).toEqual(
      new Map([
        ['POST pods', 110],
        ['PATCH pods/status', 152],
      ]),
    );
  });

  it('gives what moved between two scrapes', () => {
    const before = new Map([
      ['POST pods', 100],
      ['PATCH pods/status', 152],
    ]);
    const after = new Map([
      ['POST pods', 210],
      ['PATCH pods/status', 152],
      ['GET pods', 3],
    ]);
    expect(counterDelta(before, after)).toEqual(
      new Map([
        ['POST pods', 110],
        ['GET pods', 3],
      ]),
    );
  });
});
