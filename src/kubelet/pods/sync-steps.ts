// What one pod sync did, step by step, as values. The executor (pod-syncer.ts) produces
// them as it goes; plan-sync-report.ts turns each into the events, waiting reasons and
// requeue time it implies. A step's progress events (Pulling, Created, Started, Killing)
// are the step's own and happen as it runs; what the kubelet concludes is decided here.
import type { StartOutcome } from '../runtime/container-start.js';
import type { VolumeFailure } from '../volumes/volume-manager.js';

export type StepResult =
  /** Nothing tried: the container's crash-loop back-off runs until `retryAt` (ms since the epoch). */
  | { step: 'wait-backoff'; container: string; retryAt: number; delayMs: number }
  /** The pod's sandbox is killed and made anew; `why` is the planner's reason (for the log). */
  | { step: 'replace-sandbox'; why: string }
  /** Nothing tried: an init container failed under restartPolicy Never, so the pod has failed. */
  | { step: 'pod-failed'; reason: string; message: string }
  /** A container was pulled, created, started and hooked, or `outcome` says where it stopped. */
  | { step: 'start-container'; container: string; outcome: StartOutcome; imageRetryAt?: number }
  /** The pod's volumes were set up (or refreshed); `ready` false holds the sandbox and every container back. */
  | { step: 'mount-volumes'; ready: boolean; failures: VolumeFailure[] };
