// Registers the Node (upstream registerWithAPIServer): create it; when it already
// exists, read it and put back the labels and annotation the kubelet owns. Retries
// with back-off until it works or the signal aborts.
import { TskubeError } from '../../common/errors.js';
import { backoffDelay } from '../../common/backoff.js';
import type { Logger } from '../../common/logger.js';
import { sleep } from '../../common/sleep.js';
import { registrationBackoff } from './loop-timing.js';
import { isAlreadyExists, type NodeApi } from './node-api.js';
import type { Node } from './node-wire.js';
import { reconcileExistingNode } from './reconcile-node.js';

export interface RegistrationOptions {
  api: NodeApi;
  /** Builds the Node to register (gathers facts; may fail, and is then retried). */
  buildNode: (signal: AbortSignal) => Promise<Node>;
  logger: Logger;
  random?: () => number;
}

/** One attempt: the registered Node, or a thrown error naming what failed. */
export async function tryRegisterNode(api: NodeApi, node: Node, log: Logger, signal: AbortSignal): Promise<Node> {
  const name = node.metadata.name ?? '';
  try {
    return await api.createNode(node, signal);
  } catch (err) {
    if (!isAlreadyExists(err)) throw TskubeError.from(err).wrap(`registering node ${name}`);
  }
  const existing = await api.getNode(name, signal).catch((err: unknown) => {
    throw TskubeError.from(err).wrap(`registering node ${name}: reading the existing node`);
  });
  // Deleted between our create and get: the next attempt creates it.
  if (!existing) throw new TskubeError('unavailable', `registering node ${name}: the node was deleted while registering`);
  const patch = reconcileExistingNode(node, existing);
  if (!patch) {
    log.info({ node: name }, 'node was previously registered');
    return existing;
  }
  log.info({ node: name, patch }, 'node was previously registered; reconciling the labels and annotation the kubelet owns');
  return await api.patchNode(name, patch, signal).catch((err: unknown) => {
    throw TskubeError.from(err).wrap(`registering node ${name}: updating the existing node`);
  });
}

/** Registers, retrying until it works; rejects with `canceled` only when the signal aborts first. */
export async function registerNode(options: RegistrationOptions, signal: AbortSignal): Promise<Node> {
  const random = options.random ?? Math.random;
  const log = options.logger;
  let failures = 0;
  let lastError = '';
  while (!signal.aborted) {
    try {
      const node = await options.buildNode(signal);
      if (failures === 0) log.info({ node: node.metadata.name }, 'attempting to register node');
      const registered = await tryRegisterNode(options.api, node, log, signal);
      log.info({ node: registered.metadata.name, uid: registered.metadata.uid, attempts: failures + 1 }, 'successfully registered node');
      return registered;
    } catch (err) {
      if (signal.aborted) break;
      const message = TskubeError.from(err).message;
      const delayMs = backoffDelay(registrationBackoff, failures, random());
      // One line per distinct failure, not one per retry.
      if (message !== lastError) log.warn({ err: message, retryInMs: delayMs }, 'unable to register node; retrying');
      lastError = message;
      failures++;
      await sleep(delayMs, signal);
    }
  }
  throw new TskubeError('canceled', 'node registration stopped before it succeeded');
}
