// A probe's timings with upstream's defaults (the API server fills them in for API pods;
// static pods from files may leave them out): period 10 s, timeout 1 s, success threshold 1,
// failure threshold 3, no initial delay. A value below the API's minimum counts as absent.
import type { V1Probe } from '@kubernetes/client-node';

const atLeast = (v: number | undefined, min: number, fallback: number) => (v !== undefined && Number.isFinite(v) && v >= min ? Math.floor(v) : fallback);

export const probePeriodSeconds = (p: V1Probe): number => atLeast(p.periodSeconds, 1, 10);
export const probeTimeoutSeconds = (p: V1Probe): number => atLeast(p.timeoutSeconds, 1, 1);
export const probeSuccessThreshold = (p: V1Probe): number => atLeast(p.successThreshold, 1, 1);
export const probeFailureThreshold = (p: V1Probe): number => atLeast(p.failureThreshold, 1, 3);
export const probeInitialDelaySeconds = (p: V1Probe): number => atLeast(p.initialDelaySeconds, 0, 0);
