import { describe, expect, it } from 'vitest';
import { healthzReply, logCheck, pingCheck, syncLoopCheck } from '../../src/kubelet/healthz/healthz.js';

const q = (s = '') => new URLSearchParams(s);

describe('healthz', () => {
  it('answers ok, or each check with ?verbose', () => {
    const checks = [pingCheck, logCheck];
    expect(healthzReply('/healthz', q(), checks)).toMatchObject({ status: 200, body: 'ok' });
    expect(healthzReply('/healthz', q('verbose'), checks)?.body).toBe('[+]ping ok\n[+]log ok\nhealthz check passed\n');
    expect(healthzReply('/healthz/ping', q(), checks)).toMatchObject({ status: 200, body: 'ok' });
    expect(healthzReply('/metrics', q(), checks)).toBeUndefined();
  });

  it('fails with 500 once the sync loop has not run for five minutes (or twice the sync frequency)', () => {
    let now = 1_000_000;
    const entered = 1_000_000;
    const checks = [
      pingCheck,
      logCheck,
      syncLoopCheck(
        () => entered,
        60_000,
        () => now,
      ),
    ];
    expect(healthzReply('/healthz', q(), checks)?.status).toBe(200);
    now += 5 * 60_000 + 1;
    const failed: string[] = [];
    const reply = healthzReply('/healthz', q(), checks, (names) => failed.push(...names));
    expect(reply).toMatchObject({ status: 500, body: '[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n' });
    expect(failed).toEqual(['syncloop']);
    expect(healthzReply('/healthz', q('exclude=syncloop'), checks)?.status).toBe(200);
    expect(healthzReply('/healthz/syncloop', q(), checks)).toMatchObject({ status: 500, body: 'internal server error: sync Loop took longer than expected\n' });
    // Ten-minute sync frequency: twenty minutes of grace.
    expect(
      healthzReply('/healthz', q(), [
        syncLoopCheck(
          () => entered,
          600_000,
          () => now,
        ),
      ])?.status,
    ).toBe(200);
    // Not entered yet: not failing.
    expect(
      healthzReply('/healthz', q(), [
        syncLoopCheck(
          () => 0,
          60_000,
          () => now,
        ),
      ])?.status,
    ).toBe(200);
  });
});
