import { describe, expect, it } from 'vitest';
import { planLogRotation, rotationTimestamp } from '../../src/kubelet/logs/plan-log-rotation.js';

describe('planLogRotation', () => {
  const log = '/var/log/pods/ns_p_uid/c/0.log';
  const now = new Date(2026, 0, 2, 3, 4, 5);

  it('names the rotated file with upstream timestamp layout', () => {
    expect(rotationTimestamp(now)).toBe('20260102-030405');
    expect(planLogRotation(log, [], 5, now)).toEqual({ remove: [], compress: [], rotated: `${log}.20260102-030405` });
  });

  it('drops temporary files and uncompressed copies of compressed ones, keeps maxFiles - 2 rotated files and compresses them', () => {
    const siblings = [
      `${log}.20260101-000001.gz`,
      `${log}.20260101-000002.gz`,
      `${log}.20260101-000003`,
      `${log}.20260101-000003.gz.tmp`,
      `${log}.20260101-000002`,
    ];
    expect(planLogRotation(log, siblings, 4, now)).toEqual({
      remove: [`${log}.20260101-000003.gz.tmp`, `${log}.20260101-000002`, `${log}.20260101-000001.gz`],
      compress: [`${log}.20260101-000003`],
      rotated: `${log}.20260102-030405`,
    });
  });
});
