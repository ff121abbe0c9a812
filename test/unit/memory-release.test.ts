import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { defaultReleasePolicy, shouldRelease } from '../../src/common/memory-release.js';

const MiB = 1024 * 1024;

describe('memory release after bursts', () => {
  it.each([
    { rss: 130, previous: 129, floor: 75, release: true, why: 'grown well over the floor, and settled' },
    { rss: 130, previous: 110, floor: 75, release: false, why: 'still growing: in the middle of a burst' },
    { rss: 88, previous: 88, floor: 75, release: false, why: 'grown, but less than the threshold' },
    { rss: 91, previous: 91, floor: 75, release: true, why: 'exactly the threshold over the floor' },
    { rss: 70, previous: 72, floor: 75, release: false, why: 'below the floor' },
  ])('$why: $release', ({ rss, previous, floor, release }) => {
    expect(shouldRelease(rss * MiB, previous * MiB, floor * MiB, defaultReleasePolicy)).toBe(release);
  });

  // What the kubelet relies on from V8: a last-resort collection gives a burst's memory back
  // to the kernel (a regular one leaves the grown heap resident). Checked on the Node that runs the tests.
  it("V8's last-resort collection returns a burst's garbage to the kernel", () => {
    const script = `
      let keep = [];
      for (let i = 0; i < 1_500_000; i++) keep.push({ i, s: 'x' + i });
      const peak = process.memoryUsage.rss();
      keep = undefined;
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      console.log(JSON.stringify({ peak, after: process.memoryUsage.rss() }));
    `;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { peak, after } = JSON.parse(out) as { peak: number; after: number };
    expect(peak - after, `peak ${Math.round(peak / MiB)} MiB, after ${Math.round(after / MiB)} MiB`).toBeGreaterThan(50 * MiB);
  });
});
