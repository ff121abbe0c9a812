import { describe, expect, it } from 'vitest';
import { freshRead } from '../../src/common/fresh-read.js';

/** A read whose every call the test ends by hand, in order. */
function manualReads() {
  const calls: { resolve: (v: number) => void; reject: (e: Error) => void }[] = [];
  const read = () => new Promise<number>((resolve, reject) => calls.push({ resolve, reject }));
  return { read, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('freshRead', () => {
  it('gives callers that ask during a read the next one, started after it ends', async () => {
    const { read, calls } = manualReads();
    const shared = freshRead(read);
    const first = shared();
    const second = shared();
    const third = shared();
    await tick();
    // Only the first read runs: the others may not take a table read before they asked.
    expect(calls).toHaveLength(1);
    calls[0]?.resolve(1);
    await expect(first).resolves.toBe(1);
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(2);
    await expect(second).resolves.toBe(2);
    await expect(third).resolves.toBe(2);
  });

  it('reads again for a caller that comes once the next read has started', async () => {
    const { read, calls } = manualReads();
    const shared = freshRead(read);
    const first = shared();
    const second = shared();
    calls[0]?.resolve(1);
    await first;
    await tick();
    const third = shared();
    calls[1]?.resolve(2);
    await expect(second).resolves.toBe(2);
    await tick();
    expect(calls).toHaveLength(3);
    calls[2]?.resolve(3);
    await expect(third).resolves.toBe(3);
  });

  it('fails only the callers of a failed read', async () => {
    const { read, calls } = manualReads();
    const shared = freshRead(read);
    const first = shared();
    const second = shared();
    calls[0]?.reject(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await tick();
    calls[1]?.resolve(2);
    await expect(second).resolves.toBe(2);
    const idle = shared();
    await tick();
    calls[2]?.resolve(3);
    await expect(idle).resolves.toBe(3);
  });
});
