import { describe, expect, it } from 'vitest';
import { planLogSweep, podUidOfLogDir } from '../../src/kubelet/gc/plan-log-sweep.js';

const root = '/var/log/pods';

describe('planLogSweep', () => {
  it('reads the pod UID from <namespace>_<name>_<uid>, and nothing from other names', () => {
    expect(podUidOfLogDir('default_web_0f3c')).toBe('0f3c');
    expect(podUidOfLogDir('lost+found')).toBeUndefined();
    expect(podUidOfLogDir('a_b')).toBeUndefined();
  });

  it('removes the log directories of pods that are gone and keeps those of live pods', () => {
    const plan = planLogSweep({
      dirs: [{ name: 'default_web_u1' }, { name: 'default_old_u2' }, { name: 'lost+found' }],
      links: [],
      podLogsRoot: root,
      livePodUids: new Set(['u1']),
    });
    expect(plan.dirs).toEqual(['default_old_u2']);
  });

  it('removes links whose log file is gone or whose directory goes now, and no link it did not make', () => {
    const plan = planLogSweep({
      dirs: [{ name: 'default_old_u2' }],
      links: [
        { name: 'web_default_app-c1.log', target: `${root}/default_web_u1/app/0.log`, targetExists: true },
        { name: 'web_default_app-c0.log', target: `${root}/default_web_u1/app/1.log`, targetExists: false },
        { name: 'old_default_app-c9.log', target: `${root}/default_old_u2/app/0.log`, targetExists: true },
        { name: 'other.log', target: '/srv/app/other.log', targetExists: false },
        { name: 'web_default_app-c5', target: `${root}/default_web_u1/app/5.log`, targetExists: false },
      ],
      podLogsRoot: `${root}/`,
      livePodUids: new Set(['u1']),
    });
    expect(plan.links).toEqual(['web_default_app-c0.log', 'old_default_app-c9.log']);
  });
});
