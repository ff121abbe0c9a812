import { TskubeError } from '../../common/errors.js';
import { encodeTerminalSize } from './channel-frame.js';
import { parseExitStatus, type ExitStatus } from './exec-status.js';
import { pumpInput, watchTerminalSize, type RemoteCommandStreams } from './remote-command.js';
import { SpdyConnection } from './spdy-connection.js';

/** The remote command protocol we speak over SPDY: one stream per std stream, error and resize. */
const protocol = 'v4.channel.k8s.io';

/**
 * Runs an exec/attach session over SPDY. The server expects exactly the streams the
 * Exec/Attach request asked for (stdin/stdout/stderr as requested, resize with a TTY)
 * plus the error stream, and closes the connection once the command is over.
 */
export async function spdyRemoteCommand(url: string, streams: RemoteCommandStreams): Promise<ExitStatus> {
  const conn = await SpdyConnection.open(url, [protocol], streams.signal);
  if (conn.protocol !== protocol) {
    conn.close();
    throw new TskubeError('unimplemented', `streaming server chose protocol "${conn.protocol}"; tskube speaks ${protocol} over SPDY`);
  }
  streams.debug?.(`streaming over SPDY/3.1, protocol ${conn.protocol}`);
  const cleanups: (() => void)[] = [];
  const onAbort = () => conn.close();
  streams.signal.addEventListener('abort', onAbort, { once: true });
  cleanups.push(() => streams.signal.removeEventListener('abort', onAbort));
  try {
    let errorText = '';
    conn.createStream({ streamtype: 'error' }, { onData: (d) => (errorText += d.toString('utf8')) });
    if (streams.stdin) {
      const stdin = conn.createStream({ streamtype: 'stdin' });
      cleanups.push(
        pumpInput(
          streams.stdin,
          (chunk) => stdin.write(chunk),
          () => stdin.end(),
        ),
      );
    }
    if (streams.stdout) {
      const out = streams.stdout;
      conn.createStream({ streamtype: 'stdout' }, { onData: (d) => out.write(d) });
    }
    if (streams.stderr && !streams.tty) {
      const err = streams.stderr;
      conn.createStream({ streamtype: 'stderr' }, { onData: (d) => err.write(d) });
    }
    if (streams.tty) {
      const resize = conn.createStream({ streamtype: 'resize' });
      cleanups.push(watchTerminalSize(streams, (size) => resize.write(encodeTerminalSize(size))));
    }
    await conn.closed;
    if (streams.signal.aborted) throw new TskubeError('canceled', 'remote command canceled');
    return parseExitStatus(errorText, true);
  } finally {
    for (const c of cleanups) c();
    conn.close();
  }
}
