import { TskubeError } from '../../common/errors.js';
import { Channel, decodeChannelMessage, encodeChannelClose, encodeChannelData, encodeTerminalSize, websocketProtocols } from './channel-frame.js';
import { parseExitStatus, type ExitStatus } from './exec-status.js';
import { pumpInput, watchTerminalSize, type RemoteCommandStreams } from './remote-command.js';

/** The streaming server's http(s) URL as the ws(s) URL a WebSocket wants. */
export function websocketUrl(url: string): string {
  return url.replace(/^http(s?):/i, 'ws$1:');
}

/**
 * Runs an exec/attach session over a websocket and resolves with the command's exit
 * status when the server closes the connection. Offers v5, v4 and the unversioned
 * protocol, in that order; the server picks the first it knows.
 */
export function websocketRemoteCommand(url: string, streams: RemoteCommandStreams): Promise<ExitStatus> {
  return new Promise<ExitStatus>((resolve, reject) => {
    if (streams.signal.aborted) {
      reject(new TskubeError('canceled', 'remote command canceled'));
      return;
    }
    const ws = new WebSocket(websocketUrl(url), [websocketProtocols.v5, websocketProtocols.v4, websocketProtocols.v1]);
    ws.binaryType = 'arraybuffer';
    let errorText = '';
    let opened = false;
    const cleanups: (() => void)[] = [];
    const finish = (outcome: () => void) => {
      for (const c of cleanups.splice(0)) c();
      outcome();
    };
    const onAbort = () => {
      ws.close();
      finish(() => reject(new TskubeError('canceled', 'remote command canceled')));
    };
    streams.signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => streams.signal.removeEventListener('abort', onAbort));

    ws.onopen = () => {
      opened = true;
      const protocol = ws.protocol;
      streams.debug?.(`streaming over websocket, protocol ${protocol || '(none)'}`);
      const send = (data: Buffer) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(data);
      };
      if (streams.stdin) {
        const canClose = protocol === websocketProtocols.v5;
        cleanups.push(
          pumpInput(
            streams.stdin,
            (chunk) => send(encodeChannelData(Channel.stdin, chunk)),
            () => {
              if (canClose) send(encodeChannelClose(Channel.stdin));
              else streams.debug?.(`stdin ended, but ${protocol || 'this protocol'} cannot tell the server; use --transport spdy`);
            },
          ),
        );
      }
      cleanups.push(watchTerminalSize(streams, (size) => send(encodeChannelData(Channel.resize, encodeTerminalSize(size)))));
    };
    ws.onmessage = (event: MessageEvent) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      const message = decodeChannelMessage(new Uint8Array(event.data));
      if (message?.kind !== 'data' || message.data.length === 0) return;
      switch (message.channel) {
        case Channel.stdout:
          streams.stdout?.write(message.data);
          break;
        case Channel.stderr:
          streams.stderr?.write(message.data);
          break;
        case Channel.error:
          errorText += message.data.toString('utf8');
          break;
      }
    };
    ws.onerror = () => {
      if (!opened) {
        finish(() =>
          reject(new TskubeError('unavailable', `cannot open a websocket stream to ${url} (the server refused the upgrade or every offered protocol)`)),
        );
      }
    };
    ws.onclose = () => {
      if (!opened) return;
      const structured = ws.protocol === websocketProtocols.v4 || ws.protocol === websocketProtocols.v5;
      finish(() => {
        try {
          resolve(parseExitStatus(errorText, structured));
        } catch (err) {
          reject(err);
        }
      });
    };
  });
}
