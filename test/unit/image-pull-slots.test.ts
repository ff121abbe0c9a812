import { describe, expect, it } from 'vitest';
import { isCode } from '../../src/common/errors.js';
import { Slots } from '../../src/common/slots.js';
import type { CriRuntime } from '../../src/kubelet/runtime/cri-runtime.js';
import { ImagePuller } from '../../src/kubelet/runtime/image-puller.js';

/** A runtime whose pulls finish when the test says so; it records how many ran at once. */
function slowRegistry() {
  const pending: { image: string; done: () => void }[] = [];
  let running = 0;
  let most = 0;
  const call = async (name: string, req: { image?: { image?: string } }) => {
    if (name === 'ImageStatus') return { image: null };
    running++;
    most = Math.max(most, running);
    await new Promise<void>((done) => pending.push({ image: req.image?.image ?? '', done }));
    running--;
    return { imageRef: `sha256:${req.image?.image}` };
  };
  const runtime = { image: { call }, runtime: { call } } as unknown as CriRuntime;
  return { runtime, pending, most: () => most };
}

const quiet = { pulling: () => undefined, pulled: () => undefined, failed: () => undefined };
const tick = () => new Promise((r) => setImmediate(r));

describe('image pulls at once', () => {
  it('runs one pull at a time when serialized (upstream default), in the order asked', async () => {
    const reg = slowRegistry();
    const puller = new ImagePuller(reg.runtime, Date.now, 1);
    const outcomes = ['a', 'b', 'c'].map((image) => puller.ensure(image, 'IfNotPresent', [], 'pod', quiet));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(reg.pending).toHaveLength(1);
      const next = reg.pending.shift();
      order.push(next?.image ?? '');
      next?.done();
    }
    expect(await Promise.all(outcomes)).toEqual(['a', 'b', 'c'].map((image) => ({ ok: true, imageRef: `sha256:${image}` })));
    expect(order).toEqual(['a', 'b', 'c']);
    expect(reg.most()).toBe(1);
  });

  it('runs up to maxParallelImagePulls at once', async () => {
    const reg = slowRegistry();
    const puller = new ImagePuller(reg.runtime, Date.now, 2);
    const outcomes = ['a', 'b', 'c'].map((image) => puller.ensure(image, 'IfNotPresent', [], 'pod', quiet));
    await tick();
    expect(reg.pending.map((p) => p.image)).toEqual(['a', 'b']);
    reg.pending.shift()?.done();
    await tick();
    await tick();
    expect(reg.pending.map((p) => p.image)).toEqual(['b', 'c']);
    for (const p of reg.pending.splice(0)) p.done();
    await Promise.all(outcomes);
    expect(reg.most()).toBe(2);
  });

  it('lets a waiter whose signal aborts leave the queue without taking a slot', async () => {
    const slots = new Slots(1);
    let release: () => void = () => undefined;
    const first = slots.run(() => new Promise<void>((r) => (release = r)));
    const abort = new AbortController();
    const second = slots.run(async () => 'second', abort.signal);
    const third = slots.run(async () => 'third');
    abort.abort();
    await expect(second).rejects.toSatisfy((err) => isCode(err, 'canceled'));
    release();
    await first;
    expect(await third).toBe('third');
  });
});
