import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/common/errors.js';
import { checkConfigAgainstHost, swapIsOn } from '../../src/kubelet/cm/host-config-checks.js';
import { criRequestBuilders } from '../../src/kubelet/cri-request-builders.js';
import { container, testNode, testPod } from '../support/pod-lifecycle-harness.js';

const swapsHeader = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
const noObjects = { configMap: () => undefined, secret: () => undefined };
const ctx = { env: [], imageRef: 'sha256:abc', podIPs: [] };
const app = container('app', { resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } } });
const limited = testPod('p', { containers: [app] });

describe('KubeletConfiguration against the host', () => {
  it('reads /proc/swaps as upstream: any line past the header is a swap area', () => {
    expect(swapIsOn(swapsHeader)).toBe(false);
    expect(swapIsOn('')).toBe(false);
    expect(swapIsOn(`${swapsHeader}/swapfile                               file\t\t1048572\t\t0\t\t-2\n`)).toBe(true);
  });

  it('refuses to start with swap on under failSwapOn, and with singleProcessOOMKill false on cgroup v1, naming the field', () => {
    const swapOn = `${swapsHeader}/dev/sda2 partition 1 0 -2\n`;
    const fails = (c: { failSwapOn: boolean; singleProcessOOMKill?: boolean }, host: { cgroupV2: boolean; swaps: string }) => {
      try {
        checkConfigAgainstHost(c, host);
        return undefined;
      } catch (err) {
        return errorMessage(err);
      }
    };
    expect(fails({ failSwapOn: true }, { cgroupV2: false, swaps: swapOn })).toContain('failSwapOn: running with swap on is not supported');
    expect(fails({ failSwapOn: false }, { cgroupV2: false, swaps: swapOn })).toBeUndefined();
    expect(fails({ failSwapOn: true }, { cgroupV2: true, swaps: swapsHeader })).toBeUndefined();
    expect(fails({ failSwapOn: false, singleProcessOOMKill: false }, { cgroupV2: false, swaps: '' })).toContain('singleProcessOOMKill: invalid value false');
    expect(fails({ failSwapOn: false, singleProcessOOMKill: false }, { cgroupV2: true, swaps: '' })).toBeUndefined();
    expect(fails({ failSwapOn: false, singleProcessOOMKill: true }, { cgroupV2: false, swaps: '' })).toBeUndefined();
  });
});

describe('the node settings reach the CRI requests', () => {
  const builders = (over: Partial<ReturnType<typeof testNode>>) => criRequestBuilders({ ...testNode('/var/lib/kubelet', '/var/log/pods'), ...over }, noObjects);

  it('cpuCFSQuota: a CPU limit becomes a quota only when on (create and in-place update alike)', () => {
    expect(builders({ cpuCFSQuota: true }).container(limited, app, 0, ctx).linux?.resources).toMatchObject({ cpuQuota: 25_000, cpuPeriod: 100_000 });
    expect(builders({ cpuCFSQuota: true }).resources(limited, app)).toMatchObject({ cpuQuota: 25_000 });
    const off = builders({ cpuCFSQuota: false });
    expect(off.container(limited, app, 0, ctx).linux?.resources?.cpuQuota ?? 0).toBe(0);
    expect(off.resources(limited, app).cpuQuota ?? 0).toBe(0);
    expect(off.container(limited, app, 0, ctx).linux?.resources).toMatchObject({ cpuShares: 256, memoryLimitInBytes: 64 * 2 ** 20 });
  });

  it('seccompDefault: RuntimeDefault for a container whose pod names no profile', () => {
    expect(builders({ seccompDefault: false }).container(limited, app, 0, ctx).linux?.securityContext?.seccomp).toEqual({ profileType: 'Unconfined' });
    expect(builders({ seccompDefault: true }).container(limited, app, 0, ctx).linux?.securityContext?.seccomp).toEqual({ profileType: 'RuntimeDefault' });
  });

  it('singleProcessOOMKill: memory.oom.group on cgroup v2 unless it is true', () => {
    expect(builders({ cgroupV2: true, singleProcessOOMKill: false }).container(limited, app, 0, ctx).linux?.resources?.unified).toEqual({
      'memory.oom.group': '1',
    });
    expect(builders({ cgroupV2: true, singleProcessOOMKill: true }).container(limited, app, 0, ctx).linux?.resources?.unified ?? {}).toEqual({});
  });
});
