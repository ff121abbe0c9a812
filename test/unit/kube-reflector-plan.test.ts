import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../src/kube/api-error.js';
import { backoffDelay } from '../../src/common/backoff.js';
import {
  initialReflectorState,
  listResourceVersion,
  nextStep,
  type ReflectorState,
  reflectorBackoff,
  watchTimeoutSeconds,
} from '../../src/kube/reflector-plan.js';
import { TskubeError } from '../../src/common/errors.js';

const watching: ReflectorState = { resourceVersion: '100', needList: false, resourceVersionUnavailable: false, failures: 0 };

describe('reflector plan', () => {
  it('lists first with rv "0" (the watch cache), then watches from the listed rv', () => {
    expect(listResourceVersion(initialReflectorState)).toBe('0');
    const step = nextStep(initialReflectorState, { kind: 'listed', resourceVersion: '42' }, 0);
    expect(step).toEqual({ state: { resourceVersion: '42', needList: false, resourceVersionUnavailable: false, failures: 0 }, delayMs: 0 });
  });

  it('resumes a watch the server closed at once, from the same rv, without a list', () => {
    const step = nextStep(watching, { kind: 'watch-closed', durationMs: 300_000, events: 12 }, 0.5);
    expect(step.state).toEqual(watching);
    expect(step.delayMs).toBe(0);
  });

  it('relists at once after 410, with a consistent read', () => {
    for (const outcome of [{ kind: 'expired' } as const, { kind: 'failed', during: 'watch', error: new KubeApiError(410, 'Gone', 'too old') } as const]) {
      const step = nextStep(watching, outcome, 0.5);
      expect(step.delayMs).toBe(0);
      expect(step.state.needList).toBe(true);
      expect(listResourceVersion(step.state)).toBe('');
    }
  });

  it('backs off on a transient watch error and resumes the watch from the same rv', () => {
    const step = nextStep(watching, { kind: 'failed', during: 'watch', error: new TskubeError('unavailable', 'ECONNREFUSED') }, 0);
    expect(step.state).toEqual({ ...watching, failures: 1 });
    expect(step.delayMs).toBe(800);
    expect(step.transition).toBe('failing');
    const again = nextStep(step.state, { kind: 'failed', during: 'watch', error: new KubeApiError(503, 'ServiceUnavailable', 'x') }, 0);
    expect(again.delayMs).toBe(1600);
    expect(again.transition).toBeUndefined();
    expect(again.state.needList).toBe(false);
  });

  it('backs off and relists after a non-transient watch error (403)', () => {
    const step = nextStep(watching, { kind: 'failed', during: 'watch', error: new KubeApiError(403, 'Forbidden', 'no') }, 0);
    expect(step.state.needList).toBe(true);
    expect(listResourceVersion(step.state)).toBe('100');
    expect(step.delayMs).toBe(800);
  });

  it('treats a watch that closes at once with nothing in it as a failure, so it cannot spin', () => {
    const step = nextStep(watching, { kind: 'watch-closed', durationMs: 5, events: 0 }, 0);
    expect(step.delayMs).toBe(800);
    expect(step.state.failures).toBe(1);
  });

  it('resets the back-off and says recovered after a success', () => {
    const failing = { ...watching, failures: 5 };
    const step = nextStep(failing, { kind: 'listed', resourceVersion: '200' }, 0);
    expect(step.state.failures).toBe(0);
    expect(step.transition).toBe('recovered');
  });

  it('doubles the back-off from 800 ms to 30 s with jitter within [d, 2d) and the cap', () => {
    expect(backoffDelay(reflectorBackoff, 0, 0)).toBe(800);
    expect(backoffDelay(reflectorBackoff, 0, 0.99)).toBe(1592);
    expect(backoffDelay(reflectorBackoff, 3, 0)).toBe(6400);
    expect(backoffDelay(reflectorBackoff, 10, 0)).toBe(30_000);
    expect(backoffDelay(reflectorBackoff, 10, 0.9)).toBe(30_000);
  });

  it('spreads watch timeouts over [min, 2·min)', () => {
    expect(watchTimeoutSeconds(300, 0)).toBe(300);
    expect(watchTimeoutSeconds(300, 0.999)).toBe(599);
  });
});
