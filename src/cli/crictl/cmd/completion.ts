import { TskubeError } from '../../../common/errors.js';
import { parseFlags } from '../../args.js';
import { subcommands } from '../commands.js';
import type { CrictlContext } from '../context.js';

/** The global flags of `tskube crictl`, long names only (as crictl's scripts). */
const globalFlags = ['--config', '--debug', '--image-endpoint', '--runtime-endpoint', '--timeout', '--help', '--version'];

function commandNames(): { name: string; summary: string }[] {
  return subcommands.flatMap((s) => [s.name, ...(s.aliases ?? [])].map((name) => ({ name, summary: s.summary })));
}

// The scripts complete `tskube crictl <subcommand>`: the crictl words start at position 2.

export function bashCompletion(): string {
  const words = [...commandNames().map((c) => c.name), ...globalFlags].join(' ');
  return `_tskube_crictl_complete() {
    local cur="\${COMP_WORDS[COMP_CWORD]}"
    COMPREPLY=()
    if [[ \${COMP_CWORD} -eq 1 ]]; then
        COMPREPLY=( $(compgen -W "crictl" -- "\${cur}") )
    elif [[ "\${COMP_WORDS[1]}" == "crictl" ]]; then
        COMPREPLY=( $(compgen -W "${words}" -- "\${cur}") )
    fi
    return 0
}

complete -F _tskube_crictl_complete tskube
`;
}

/** zsh _describe entries: "name:summary", with colons in the name escaped. */
function zshQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function zshCompletion(): string {
  const cmds = commandNames().map((c) => zshQuote(`${c.name.replace(/:/g, '\\:')}:${c.summary}`));
  return `#compdef tskube

_tskube_crictl_complete() {
  if (( CURRENT == 2 )); then
    local -a top
    top=('crictl:CRI client for debugging the container runtime')
    _describe 'tskube commands' top
    return
  fi
  [[ \${words[2]} == crictl ]] || return

  local -a cmds
  cmds=(${cmds.join(' ')})
  _describe 'commands' cmds

  local -a opts
  opts=(${globalFlags.map(zshQuote).join(' ')})
  _describe 'global options' opts
}

compdef _tskube_crictl_complete tskube
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function fishCompletion(): string {
  const lines = [
    '# tskube crictl completion for fish',
    "complete -c tskube -f -n '__fish_use_subcommand' -a crictl -d 'CRI client for debugging the container runtime'",
    ...commandNames().map((c) => `complete -c tskube -f -n '__fish_seen_subcommand_from crictl' -a ${fishQuote(c.name)} -d ${fishQuote(c.summary)}`),
    ...globalFlags.map((f) => `complete -c tskube -f -n '__fish_seen_subcommand_from crictl' -l ${f.slice(2)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `crictl completion [bash|zsh|fish]`: prints a completion script (bash when no shell is named). */
export async function run(argv: string[], ctx: CrictlContext): Promise<number> {
  const { positionals } = parseFlags(argv, {});
  if (positionals.length > 1) throw new TskubeError('invalid-argument', `completion takes one SHELL argument, got ${positionals.length}`);
  const shell = positionals[0] ?? 'bash';
  const scripts: Record<string, () => string> = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };
  const script = scripts[shell];
  if (!script) throw new TskubeError('invalid-argument', `unsupported shell "${shell}" (want bash, zsh or fish)`);
  ctx.io.stdout.write(script());
  return 0;
}
