import { TskubeError } from '../../../common/errors.js';
import type { CommandIo } from '../../io.js';

/**
 * Asks for a password on the command's stdin, as `crictl pull --username` does.
 * On a terminal the input is not echoed; from a pipe the first line is the password.
 */
export async function readPassword(io: CommandIo, prompt = 'Enter Password:'): Promise<string> {
  io.stdout.write(prompt);
  const stdin = io.stdin;
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode?.(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = '';
      const done = (err?: Error) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onError);
        io.signal.removeEventListener('abort', onAbort);
        stdin.pause();
        if (err) reject(err);
        else resolve(text);
      };
      const onData = (chunk: string | Buffer) => {
        text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        // Ctrl-C in raw mode arrives as a byte, not a signal.
        if (raw && text.includes('\u0003')) return done(new TskubeError('canceled', 'password entry interrupted'));
        const end = text.search(/[\r\n]/);
        if (end >= 0) {
          text = text.slice(0, end);
          done();
        }
      };
      const onEnd = () => done();
      const onError = (err: Error) => done(err);
      const onAbort = () => done(new TskubeError('canceled', 'password entry interrupted'));
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.on('error', onError);
      io.signal.addEventListener('abort', onAbort, { once: true });
      stdin.resume();
    });
  } finally {
    if (raw) stdin.setRawMode?.(false);
    io.stdout.write('\n');
  }
}
