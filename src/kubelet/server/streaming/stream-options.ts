/**
 * The query of an exec or attach request, as the API server writes it when it proxies
 * `kubectl exec` (command=…&input=1&output=1&error=1&tty=1). Upstream's parameter names:
 * input/output/error for the three streams; stdin/stdout/stderr are accepted too.
 */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  command: string[];
}

const flag = (q: URLSearchParams, ...names: string[]) => names.some((n) => q.get(n) === '1' || q.get(n)?.toLowerCase() === 'true');

export function parseStreamOptions(query: URLSearchParams, kind: 'exec' | 'attach'): { ok: true; options: StreamOptions } | { ok: false; message: string } {
  const tty = flag(query, 'tty');
  const stdin = flag(query, 'input', 'stdin');
  const stdout = flag(query, 'output', 'stdout');
  // A terminal has one output stream: stderr is folded into stdout, as upstream does.
  const stderr = !tty && flag(query, 'error', 'stderr');
  if (!stdin && !stdout && !stderr) return { ok: false, message: 'you must specify at least 1 of stdin, stdout, stderr' };
  const command = query.getAll('command');
  if (kind === 'exec' && command.length === 0) return { ok: false, message: 'you must specify a command to run (the "command" parameter, once per argument)' };
  return { ok: true, options: { stdin, stdout, stderr, tty, command } };
}
