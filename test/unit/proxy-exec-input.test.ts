// The proxy's commands read big inputs (a full sync's iptables-restore or nft script) from
// an unlinked file, small ones from a pipe: either way the command reads all of it, and no
// file is left behind.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { processExec } from '../../src/proxy/exec/exec.js';

const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`tskube-input-${process.pid}-`));

describe('processExec input', () => {
  it('hands a big input to the command whole, through a file it leaves nowhere', async () => {
    const input = `${'-A KUBE-SERVICES -j KUBE-SVC-XXXXXXXXXXXXXXXX\n'.repeat(20_000)}COMMIT\n`;
    expect(input.length).toBeGreaterThan(65_536);
    expect(await processExec.output('sh', ['-c', 'wc -c; ls -l /proc/self/fd/0'], { input })).toMatch(
      new RegExp(`^${input.length}\\n.*tskube-input-${process.pid}-\\d+ \\(deleted\\)`),
    );
    expect(leftovers()).toEqual([]);
  });

  it('hands a small input through a pipe (a socket pair, as Node makes them)', async () => {
    expect(await processExec.output('sh', ['-c', 'wc -c; ls -l /proc/self/fd/0'], { input: 'COMMIT\n' })).toMatch(/^7\n.*-> (socket|pipe):/);
  });

  it('reports a failing command with its stderr, whichever way the input went', async () => {
    const input = 'x'.repeat(100_000);
    await expect(processExec.output('sh', ['-c', 'cat >/dev/null; echo bad script >&2; exit 2'], { input })).rejects.toThrow(/exit 2: bad script/);
    expect(leftovers()).toEqual([]);
  });
});
