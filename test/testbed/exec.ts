// Running the helper commands the testbed needs (openssl, kubectl), with
// errors that name the command and carry its stderr.
import { execFile } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export class CommandError extends Error {
  readonly stderr: string;
  constructor(command: string, detail: string, stderr: string, options?: { cause?: unknown }) {
    super(`${command}: ${detail}${stderr ? `\n${stderr.trimEnd()}` : ''}`, options);
    this.name = 'CommandError';
    this.stderr = stderr;
  }
}

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const command = [file, ...args].join(' ');
          const detail = error.killed ? `timed out or killed (${error.signal ?? 'no signal'})` : `exited with ${String(error.code)}`;
          reject(new CommandError(command, detail, stderr, { cause: error }));
          return;
        }
        resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
