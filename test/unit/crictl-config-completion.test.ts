import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bashCompletion, fishCompletion, zshCompletion } from '../../src/cli/crictl/cmd/completion.js';
import { subcommands } from '../../src/cli/crictl/commands.js';
import { crictl } from '../../src/cli/crictl/crictl.js';
import { memoryIo } from '../../src/cli/io.js';

async function completion(args: string[]) {
  const { io, stdout, stderr } = memoryIo();
  const code = await crictl(['completion', ...args], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

describe('crictl completion', () => {
  it('bash (the default) completes subcommands after `tskube crictl`', async () => {
    const { code, stdout } = await completion([]);
    expect(code).toBe(0);
    expect(stdout).toBe(bashCompletion());
    const dir = mkdtempSync(join(tmpdir(), 'tskube-completion-'));
    try {
      const script = join(dir, 'c.bash');
      writeFileSync(script, stdout);
      const reply = (words: string) =>
        execFileSync(
          'bash',
          ['-c', `source ${script}; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _tskube_crictl_complete; echo "\${COMPREPLY[@]}"`],
          { encoding: 'utf8' },
        ).trim();
      expect(reply('tskube crictl insp')).toBe('inspect inspecti inspectp');
      expect(reply('tskube crictl stat')).toBe('stats statsp');
      expect(reply('tskube crictl --run')).toBe('--runtime-endpoint');
      expect(reply('tskube cri')).toBe('crictl');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zsh and fish list every subcommand and alias with its summary', async () => {
    const zsh = (await completion(['zsh'])).stdout;
    const fish = (await completion(['fish'])).stdout;
    expect(zsh).toBe(zshCompletion());
    expect(fish).toBe(fishCompletion());
    for (const s of subcommands) {
      expect(zsh).toContain(`'${s.name}:${s.summary}'`);
      expect(fish).toContain(`-a '${s.name}' -d '${s.summary}'`);
    }
    expect(zsh).toContain("'img:List images'");
    expect(fish).toContain('-l runtime-endpoint');
  });

  it('rejects an unknown shell', async () => {
    const { code, stderr } = await completion(['powershell']);
    expect(code).toBe(1);
    expect(stderr).toBe('tskube crictl completion: invalid-argument: unsupported shell "powershell" (want bash, zsh or fish)\n');
  });
});
